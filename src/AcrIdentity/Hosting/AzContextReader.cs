using System;
using System.Collections.ObjectModel;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using AcrIdentity.Engine.Auth;

namespace AcrIdentity.Hosting
{
    /// <summary>
    /// The caller's Az context (design §3), read by property name from Get-AzContext and Get-AzAccessToken
    /// run in the caller's runspace on the pipeline thread. No Az types, no reflection, no child pwsh.
    /// </summary>
    internal static class AzContextReader
    {
        private const CommandTypes Commands = CommandTypes.Cmdlet | CommandTypes.Function | CommandTypes.Alias;

        /// <summary>Null when Get-AzContext is absent, fails, or returns no signed-in context.</summary>
        internal static AzContextSnapshot? Read(PSCmdlet cmdlet, PipelineBridge bridge)
        {
            CommandInfo? getContext = cmdlet.InvokeCommand.GetCommand("Get-AzContext", Commands);
            if (getContext is null)
            {
                cmdlet.WriteVerbose("Az context: Get-AzContext is not available (Az.Accounts not installed).");
                return null;
            }

            PSObject? context;
            using (PowerShell ps = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                // By name, as a user would type it: a CommandInfo from here can run outside its module's scope.
                ps.AddCommand(getContext.Name);
                Collection<PSObject> result = ps.Invoke();
                if (ps.HadErrors)
                {
                    cmdlet.WriteWarning("Get-AzContext failed, so the Az context is not used: " + ps.Streams.Error.FirstOrDefault()?.Exception?.Message);
                    return null;
                }

                context = result.FirstOrDefault(o => o is not null);
            }

            if (context is null || Value(context, "Account") is null)
            {
                cmdlet.WriteVerbose("Az context: Get-AzContext returned no signed-in context.");
                return null;
            }

            AzContextSnapshot snapshot = Snapshot(context);
            snapshot.GetAccessToken = (resource, cancellationToken) =>
                bridge.InvokeOnPipelineAsync(_ => GetAccessToken(resource), cancellationToken);
            cmdlet.WriteVerbose($"Az context: account {snapshot.AccountId} ({snapshot.AccountType}), subscription {snapshot.SubscriptionId}, environment {snapshot.EnvironmentName}.");
            return snapshot;
        }

        /// <summary>The plain values of a Get-AzContext result; the caller supplies GetAccessToken.</summary>
        internal static AzContextSnapshot Snapshot(PSObject context) => new AzContextSnapshot
        {
            AccountId = Text(context, "Account", "Id"),
            AccountType = Text(context, "Account", "Type"),
            TenantId = Text(context, "Tenant", "Id"),
            SubscriptionId = Text(context, "Subscription", "Id"),
            SubscriptionName = Text(context, "Subscription", "Name"),
            EnvironmentName = Text(context, "Environment", "Name"),
            ResourceManagerUrl = Text(context, "Environment", "ResourceManagerUrl"),
            ActiveDirectoryAuthority = Text(context, "Environment", "ActiveDirectoryAuthority"),
            ActiveDirectoryServiceEndpointResourceId = Text(context, "Environment", "ActiveDirectoryServiceEndpointResourceId"),
            ContainerRegistryEndpointSuffix = Text(context, "Environment", "ContainerRegistryEndpointSuffix"),
            MicrosoftGraphUrl = Extended(context, "Environment", "MicrosoftGraphUrl"),
        };

        /// <summary>
        /// Get-AzAccessToken -ResourceUrl in the current runspace (pipeline thread only); Token is a string
        /// (Az.Accounts before 5) or a SecureString (5+, or -AsSecureString).
        /// </summary>
        internal static AzAccessToken GetAccessToken(string resource)
        {
            CommandInfo? getToken;
            using (PowerShell lookup = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                // A nested pipeline, not SessionStateProxy: this runs while the caller's pipeline is running.
                lookup.AddCommand("Get-Command").AddParameter("Name", "Get-AzAccessToken").AddParameter("CommandType", Commands)
                    .AddParameter("ErrorAction", ActionPreference.Ignore);
                getToken = lookup.Invoke().Select(o => o?.BaseObject).OfType<CommandInfo>().FirstOrDefault();
            }
            if (getToken is null)
            {
                throw new InvalidOperationException("Get-AzAccessToken is not available, so the Az context cannot supply a token.");
            }

            using PowerShell ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            ps.AddCommand(getToken.Name).AddParameter("ResourceUrl", resource);
            // 2.17–4.x return a string unless asked (and warn about it); asking keeps the token out of plain strings in PowerShell.
            if (HasParameter(getToken, "AsSecureString"))
            {
                ps.AddParameter("AsSecureString");
            }

            Collection<PSObject> result = ps.Invoke();
            if (ps.HadErrors)
            {
                throw new InvalidOperationException("Get-AzAccessToken failed: " + ps.Streams.Error.FirstOrDefault()?.Exception?.Message);
            }

            PSObject? reply = result.FirstOrDefault(o => o is not null);
            object? token = reply is null ? null : Value(reply, "Token");
            string? plain = token switch
            {
                string s => s,
                SecureString secure => new NetworkCredential(string.Empty, secure).Password,
                _ => null,
            };
            if (string.IsNullOrEmpty(plain))
            {
                throw new InvalidOperationException("Get-AzAccessToken returned no token (its Token was neither a string nor a SecureString).");
            }

            return new AzAccessToken(plain!, ExpiresOn(Value(reply!, "ExpiresOn")));
        }

        private static DateTimeOffset ExpiresOn(object? value) => value switch
        {
            DateTimeOffset d => d,
            DateTime d => new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d),
            string s when DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset d) => d,
            // Unknown: assume short-lived so the engine asks again soon.
            _ => DateTimeOffset.UtcNow.AddMinutes(5),
        };

        private static bool HasParameter(CommandInfo command, string name)
        {
            try
            {
                return command.Parameters.ContainsKey(name);
            }
            catch (Exception ex) when (ex is RuntimeException || ex is InvalidOperationException)
            {
                // Some proxies cannot list parameters; a string token is still handled.
                return false;
            }
        }

        private static object? Value(PSObject obj, string name)
        {
            object? v = obj.Properties[name]?.Value;
            return v is PSObject p ? p.BaseObject : v;
        }

        /// <summary>A value of obj.outer.ExtendedProperties (a dictionary in Az), or null.</summary>
        internal static string? Extended(PSObject obj, string outer, string key)
        {
            object? o = obj.Properties[outer]?.Value;
            object? bag = o is null ? null : PSObject.AsPSObject(o).Properties["ExtendedProperties"]?.Value;
            if ((bag is PSObject p ? p.BaseObject : bag) is not System.Collections.IDictionary dictionary)
            {
                return null;
            }

            foreach (System.Collections.DictionaryEntry entry in dictionary)
            {
                if (string.Equals(entry.Key?.ToString(), key, StringComparison.OrdinalIgnoreCase))
                {
                    string? s = entry.Value?.ToString();
                    return string.IsNullOrWhiteSpace(s) ? null : s;
                }
            }

            return null;
        }

        internal static string? Text(PSObject obj, string outer, string inner)
        {
            object? o = obj.Properties[outer]?.Value;
            if (o is null)
            {
                return null;
            }

            object? v = PSObject.AsPSObject(o).Properties[inner]?.Value;
            string? s = v?.ToString();
            return string.IsNullOrWhiteSpace(s) ? null : s;
        }
    }
}
