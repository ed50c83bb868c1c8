using System.Management.Automation;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>Forgets the Connect-AcrIdentity context; the Az context (if any) applies again.</summary>
    [Cmdlet(VerbsCommunications.Disconnect, "AcrIdentity")]
    [OutputType(typeof(AcrIdentityContext))]
    public sealed class DisconnectAcrIdentityCommand : AcrCmdlet
    {
        /// <summary>Write the context that was cleared.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            ModuleContext? cleared = Session.Disconnect();
            if (cleared is null)
            {
                WriteVerbose("There was no Connect-AcrIdentity context to clear.");
                return;
            }

            WriteVerbose($"Cleared the Connect-AcrIdentity context: {cleared}.");
            if (PassThru)
            {
                WriteObject(ContextOutput.From(cleared));
            }
        }
    }
}
