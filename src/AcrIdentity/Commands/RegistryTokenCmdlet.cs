using System;
using System.Management.Automation;
using AcrIdentity.Completion;
using System.Security;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>The parameters Get-AcrAccessToken and Connect-AcrRegistry share, and how they become an engine request.</summary>
    public abstract class RegistryTokenCmdlet : AcrCmdlet
    {
        /// <summary>Name, login server or resource ID of the registry, or an object with Registry (Enable-AcrManagedIdentityPull) or Id/LoginServer/Name (Get-AzContainerRegistry).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Name", "RegistryName")]
        [AzReferenceTransformation("Registry", "Id", "LoginServer", "Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string Registry { get; set; } = string.Empty;

        /// <summary>Also get an access token for this repository, which proves the identity may pull (or push) it.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Repository { get; set; }

        /// <summary>What -Repository must allow: pull (default) or push (pull and push).</summary>
        [Parameter]
        [ValidateSet("pull", "push", IgnoreCase = true)]
        public string Action { get; set; } = "pull";

        /// <summary>Use this machine's managed identity (system-assigned unless -ClientId/-ObjectId/-ResourceId names one).</summary>
        [Parameter]
        public SwitchParameter Identity { get; set; }

        /// <summary>A user-assigned identity's client ID (implies -Identity).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ClientId { get; set; }

        /// <summary>A user-assigned identity's principal (object) ID (implies -Identity).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ObjectId { get; set; }

        /// <summary>A user-assigned identity's resource ID (implies -Identity).</summary>
        [Parameter]
        [Alias("IdentityResourceId")]
        [ValidateNotNullOrEmpty]
        public string? ResourceId { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            int selectors = (ClientId is null ? 0 : 1) + (ObjectId is null ? 0 : 1) + (ResourceId is null ? 0 : 1);
            if (selectors > 1)
            {
                ThrowInvalidArgument("AmbiguousIdentity", "Pass at most one of -ClientId, -ObjectId and -ResourceId.",
                    "Name the user-assigned identity by one of its IDs, or none for the system-assigned identity.");
            }
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Action)) && Repository is null)
            {
                ThrowInvalidArgument("ActionNeedsRepository", "-Action says what a repository must allow; no -Repository was given.",
                    "Add -Repository <name>, or leave out -Action.");
            }
        }

        /// <summary>The engine request; the Az context is read here, on the pipeline thread, unless -Identity decides.</summary>
        internal RegistryTokenRequest BuildRequest(PipelineBridge bridge)
        {
            bool identity = Identity.IsPresent || ClientId is not null || ObjectId is not null || ResourceId is not null;
            AzContextSnapshot? az = identity || Session.Current is not null ? null : AzContextReader.Read(this, bridge);
            return new RegistryTokenRequest
            {
                Registry = Registry,
                Repository = Repository,
                Action = string.Equals(Action, "push", StringComparison.OrdinalIgnoreCase) ? RegistryAction.Push : RegistryAction.Pull,
                Resolve = new ResolveRequest
                {
                    Identity = identity,
                    ClientId = ClientId,
                    ObjectId = ObjectId,
                    IdentityResourceId = ResourceId,
                    AzContext = az,
                },
            };
        }

        /// <summary>A read-only SecureString; the string it came from is the engine's and goes out of scope with it.</summary>
        internal static SecureString? Secure(string? value)
        {
            if (value is null) return null;
            var secure = new SecureString();
            foreach (char c in value)
            {
                secure.AppendChar(c);
            }

            secure.MakeReadOnly();
            return secure;
        }
    }
}
