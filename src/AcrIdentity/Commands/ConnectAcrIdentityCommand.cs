using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// Sets the module's own context (design §3, first place): a cloud by name, ARM URL or endpoints.json, and a
    /// managed identity or service principal. It wins over the Az context until Disconnect-AcrIdentity.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "AcrIdentity", DefaultParameterSetName = IdentitySet)]
    [OutputType(typeof(AcrIdentityContext))]
    public sealed class ConnectAcrIdentityCommand : AcrCmdlet
    {
        private const string IdentitySet = "ManagedIdentity";
        private const string CredentialSet = "ServicePrincipalCredential";
        private const string SecretSet = "ServicePrincipalSecret";

        /// <summary>AzureCloud, AzureChinaCloud, AzureUSGovernment, an https ARM URL, or the path of the sandbox's endpoints.json.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Environment { get; set; }

        [Parameter]
        [Alias("Tenant")]
        [ValidateNotNullOrEmpty]
        public string? TenantId { get; set; }

        /// <summary>Subscription ID or name; default: the only subscription the identity can see.</summary>
        [Parameter]
        [Alias("SubscriptionId")]
        [ValidateNotNullOrEmpty]
        public string? Subscription { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = IdentitySet)]
        public SwitchParameter Identity { get; set; }

        /// <summary>A user-assigned identity's client ID.</summary>
        [Parameter(ParameterSetName = IdentitySet)]
        [ValidateNotNullOrEmpty]
        public string? ClientId { get; set; }

        /// <summary>A user-assigned identity's principal (object) ID.</summary>
        [Parameter(ParameterSetName = IdentitySet)]
        [ValidateNotNullOrEmpty]
        public string? ObjectId { get; set; }

        /// <summary>A user-assigned identity's resource ID.</summary>
        [Parameter(ParameterSetName = IdentitySet)]
        [ValidateNotNullOrEmpty]
        public string? ResourceId { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = CredentialSet)]
        [Parameter(ParameterSetName = SecretSet)]
        public SwitchParameter ServicePrincipal { get; set; }

        /// <summary>User name = application (client) ID, password = client secret.</summary>
        [Parameter(Mandatory = true, ParameterSetName = CredentialSet)]
        [Credential]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = SecretSet)]
        [Alias("AppId")]
        [ValidateNotNullOrEmpty]
        public string? ApplicationId { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = SecretSet)]
        [ValidateNotNull]
        public SecureString? ClientSecret { get; set; }

        protected override void ProcessRecord()
        {
            int selectors = (ClientId is null ? 0 : 1) + (ObjectId is null ? 0 : 1) + (ResourceId is null ? 0 : 1);
            if (selectors > 1)
            {
                ThrowInvalidArgument("AmbiguousIdentity", "Pass at most one of -ClientId, -ObjectId and -ResourceId.",
                    "Choose the user-assigned identity by one of its IDs (or none for the system-assigned identity).");
            }

            var request = new ConnectRequest
            {
                Environment = ResolveEnvironment(Environment),
                TenantId = TenantId,
                SubscriptionId = Subscription,
                Identity = Identity.IsPresent,
                ClientId = ClientId,
                ObjectId = ObjectId,
                IdentityResourceId = ResourceId,
            };

            if (ParameterSetName == CredentialSet)
            {
                request.ApplicationId = Credential!.UserName;
                request.ClientSecret = Credential.Password;
            }
            else if (ParameterSetName == SecretSet)
            {
                request.ApplicationId = ApplicationId;
                request.ClientSecret = ClientSecret;
            }

            ModuleContext? context = RunEngine((host, ct) => Session.ConnectAsync(request, host, ct));
            if (context is not null)
            {
                WriteObject(ContextOutput.From(context));
            }
        }

        /// <summary>Names and URLs pass through; anything else is a path, resolved against the PowerShell location (the engine needs it absolute).</summary>
        private string? ResolveEnvironment(string? value)
        {
            if (value is null || CloudEnvironment.TryGetKnown(value, out _) ||
                value.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }

            string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(value);
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                ThrowInvalidArgument("EnvironmentNotFound",
                    $"'{value}' is neither a known cloud (AzureCloud, AzureChinaCloud, AzureUSGovernment), an https ARM URL, nor an existing endpoints.json.",
                    "Pass a cloud name, the cloud's ARM URL, or the path of the endpoints.json the sandbox wrote.", value);
            }

            return path;
        }
    }
}
