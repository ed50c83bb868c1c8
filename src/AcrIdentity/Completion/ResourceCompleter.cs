using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Threading.Tasks;
using AcrIdentity.Engine.Auth;
using System.Runtime.CompilerServices;
using AcrIdentity.Engine.Completion;
using AcrIdentity.Hosting;

namespace AcrIdentity.Completion
{
    /// <summary>
    /// Tab completion for -Registry, -ResourceGroupName and -UserAssignedIdentity from the current context's
    /// subscription, named by an [ArgumentCompleter] attribute on each such parameter. An attribute rather than
    /// Register-ArgumentCompleter at import: finding the parameters by reflection loaded every type, and with them
    /// the engine, on every Import-Module.
    /// </summary>
    public sealed class ResourceCompleter : IArgumentCompleter
    {
        public static readonly string[] Parameters = { "Registry", "ResourceGroupName", "UserAssignedIdentity" };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) => Complete(parameterName, wordToComplete);

        /// <summary>How long listed names are reused (default two minutes); failures are cached as long.</summary>
        public static TimeSpan CacheDuration
        {
            [MethodImpl(MethodImplOptions.NoInlining)] get => CompletionSource.CacheDuration;
            [MethodImpl(MethodImplOptions.NoInlining)] set => CompletionSource.CacheDuration = value;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void ClearCache() => CompletionSource.ClearCache();

        public static CompletionResult[] Complete(string parameterName, string? wordToComplete)
        {
            try
            {
                return CompleteCore(parameterName, wordToComplete ?? string.Empty);
            }
            catch (Exception)
            {
                // Never an error on Tab (a load failure included).
                return Array.Empty<CompletionResult>();
            }
        }

        // Kept apart so the engine types are JIT-compiled only after the loader has hooked resolution.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static CompletionResult[] CompleteCore(string parameterName, string word)
        {
            CompletionKind kind;
            if (string.Equals(parameterName, "Registry", StringComparison.OrdinalIgnoreCase)) kind = CompletionKind.Registry;
            else if (string.Equals(parameterName, "ResourceGroupName", StringComparison.OrdinalIgnoreCase)) kind = CompletionKind.ResourceGroup;
            else if (string.Equals(parameterName, "UserAssignedIdentity", StringComparison.OrdinalIgnoreCase)) kind = CompletionKind.UserAssignedIdentity;
            else return Array.Empty<CompletionResult>();

            string prefix = word.Trim('\'', '"');
            PSObject? az = AzContext();
            string? azKey = az == null ? null : AzContextReader.Text(az, "Account", "Id") + "|" + AzContextReader.Text(az, "Subscription", "Id") + "|" + AzContextReader.Text(az, "Environment", "ResourceManagerUrl");
            IReadOnlyList<CompletionCandidate> all = CompletionSource.Get(kind, azKey, () => az == null ? null : Snapshot(az));
            var results = new List<CompletionResult>();
            foreach (CompletionCandidate c in all)
            {
                bool byName = c.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
                if (!byName && !c.ResourceId.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
                // A name used in two resource groups is ambiguous: offer the resource ID instead.
                bool unique = all.Count(o => string.Equals(o.Name, c.Name, StringComparison.OrdinalIgnoreCase)) == 1;
                string text = byName && unique ? c.Name : c.ResourceId;
                string tip = c.ResourceGroup == null ? c.ResourceId : c.Name + " (" + c.ResourceGroup + ")";
                results.Add(new CompletionResult(Quote(text), c.Name, CompletionResultType.ParameterValue, tip));
            }

            return results.ToArray();
        }

        /// <summary>Get-AzContext in the caller's runspace (we run on its pipeline thread); null when absent or signed out.</summary>
        private static PSObject? AzContext()
        {
            using (PowerShell ps = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                ps.AddScript("if (Get-Command Get-AzContext -ErrorAction Ignore) { Get-AzContext -ErrorAction Ignore }");
                PSObject? context = ps.Invoke().FirstOrDefault(o => o != null);
                return context != null && context.Properties["Account"]?.Value != null ? context : null;
            }
        }

        // The ARM token is fetched here, on the pipeline thread; the engine then runs on the thread pool.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static AzContextSnapshot? Snapshot(PSObject context)
        {
            AzContextSnapshot snapshot = AzContextReader.Snapshot(context);
            string? audience = snapshot.ActiveDirectoryServiceEndpointResourceId;
            if (audience == null) return null;
            AzAccessToken token = AzContextReader.GetAccessToken(audience);
            // Only the ARM audience is asked for by a listing; anything else fails, silently, like any Tab error.
            snapshot.GetAccessToken = (resource, ct) => string.Equals(resource.TrimEnd('/'), audience.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)
                ? Task.FromResult(token)
                : Task.FromException<AzAccessToken>(new InvalidOperationException("completion has no token for " + resource));
            return snapshot;
        }

        private static string Quote(string text) =>
            text.IndexOfAny(new[] { ' ', '\'', '$', '`', '(', ')', ';', '&', '|', ',', '{', '}' }) >= 0 ? "'" + text.Replace("'", "''") + "'" : text;
    }
}
