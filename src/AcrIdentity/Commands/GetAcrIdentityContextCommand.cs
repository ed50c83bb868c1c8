using System.Management.Automation;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// Which context the module would use now, and from where (Connect-AcrIdentity, the Az context, a managed
    /// identity, environment credentials), confirmed by an authenticated ARM call.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AcrIdentityContext")]
    [OutputType(typeof(AcrIdentityContext))]
    public sealed class GetAcrIdentityContextCommand : AcrCmdlet
    {
        /// <summary>Check this subscription (ID or name) instead of the context's own.</summary>
        [Parameter]
        [Alias("SubscriptionId")]
        [ValidateNotNullOrEmpty]
        public string? Subscription { get; set; }

        protected override void ProcessRecord()
        {
            var bridge = new PipelineBridge();
            // The Az context only matters without a Connect-AcrIdentity context; skip the Get-AzContext call then.
            AzContextSnapshot? az = ReadAzContextUnlessConnected(bridge);
            var request = new ResolveRequest { AzContext = az, SubscriptionId = Subscription };

            ModuleContext? context = RunEngine(bridge, async (host, ct) =>
            {
                ModuleContext resolved = await CredentialResolver.ResolveAsync(request, host, ct).ConfigureAwait(false);
                // Prove the credentials now (the subscription name comes from ARM), whatever the source.
                return await Session.VerifyAsync(resolved, host, ct).ConfigureAwait(false);
            });
            if (context is not null)
            {
                WriteObject(ContextOutput.From(context));
            }
        }
    }
}
