using System;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// Bind, call the engine, block once at the edge. The token is created in BeginProcessing and cancelled
    /// by StopProcessing (Ctrl+C), and reaches every HTTP call the engine makes.
    /// </summary>
    public abstract class AcrCmdlet : PSCmdlet, IDisposable
    {
        private CancellationTokenSource? _cancellation;

        /// <summary>Cancelled when the user stops the pipeline.</summary>
        internal CancellationToken StopToken => _cancellation?.Token ?? CancellationToken.None;

        protected override void BeginProcessing()
        {
            _cancellation = new CancellationTokenSource();
        }

        protected override void StopProcessing()
        {
            _cancellation?.Cancel();
        }

        public void Dispose()
        {
            _cancellation?.Dispose();
            _cancellation = null;
            GC.SuppressFinalize(this);
        }

        /// <summary>
        /// Runs engine work on a pool thread and pumps its host calls here until it ends. Engine errors
        /// become a terminating ErrorRecord (<paramref name="terminating"/>) or WriteError + default.
        /// </summary>
        internal T? RunEngine<T>(Func<PipelineBridge, CancellationToken, Task<T>> work, bool terminating = true) =>
            RunEngine(new PipelineBridge(), work, terminating);

        /// <summary>As above with a bridge made beforehand (the Az context's token callback is bound to it).</summary>
        internal T? RunEngine<T>(PipelineBridge bridge, Func<PipelineBridge, CancellationToken, Task<T>> work, bool terminating = true)
        {
            CancellationToken token = StopToken;
            Task<T> task = Task.Run(() => work(bridge, token), token);
            bridge.PumpUntil(task, this, token);

            if (!task.IsCompleted || (token.IsCancellationRequested && !task.Succeeded()))
            {
                throw new PipelineStoppedException();
            }

            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (EngineException ex)
            {
                Report(ToErrorRecord(ex), terminating);
                return default;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>
        /// Engine work in the caller's context: Connect-AcrIdentity's, else the Az context (read here, on the
        /// pipeline thread, because Get-AzAccessToken must run there), else managed identity or environment.
        /// </summary>
        internal T? RunInContext<T>(PipelineBridge bridge, Func<ModuleContext, PipelineBridge, CancellationToken, Task<T>> work, bool terminating = true)
        {
            AzContextSnapshot? az = ReadAzContextUnlessConnected(bridge);
            return RunEngine(bridge, async (host, ct) =>
            {
                ModuleContext context = await CredentialResolver.ResolveAsync(new ResolveRequest { AzContext = az }, host, ct).ConfigureAwait(false);
                return await work(context, host, ct).ConfigureAwait(false);
            }, terminating);
        }

        /// <summary>-WhatIf, passed or inherited through $WhatIfPreference: the engine then only plans.</summary>
        internal bool WhatIfRequested =>
            MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? value)
                ? value is SwitchParameter s ? s.IsPresent : LanguagePrimitives.IsTrue(value)
                : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

        /// <summary>-Confirm: asked on the pipeline thread before each write; "No" stops that target there. None under -WhatIf.</summary>
        internal static Func<string, string, CancellationToken, Task<bool>>? ConfirmEachWrite(PipelineBridge bridge, bool whatIf) =>
            whatIf ? null : (target, action, ct) => bridge.InvokeOnPipelineAsync(c => c.ShouldProcess(target, action), ct);

        /// <summary>The caller's Az context, read only when no Connect-AcrIdentity context would win over it.</summary>
        internal AzContextSnapshot? ReadAzContextUnlessConnected(PipelineBridge bridge) =>
            Session.Current is null ? AzContextReader.Read(this, bridge) : null;

        internal void ValidatePropagationTimeout(TimeSpan timeout)
        {
            if (timeout < TimeSpan.Zero)
            {
                ThrowInvalidArgument("InvalidPropagationTimeout", "-PropagationTimeout cannot be negative.", "Pass a duration such as (New-TimeSpan -Minutes 5).");
            }
        }

        internal void ValidateSlotChoice(string? slot, bool includeSlots)
        {
            if (slot is not null && includeSlots)
            {
                ThrowInvalidArgument("ConflictingSlotParameters", "-Slot picks one slot and -IncludeSlots picks the site and every slot; use one of them.",
                    "Leave out -Slot or -IncludeSlots.");
            }
        }

        /// <summary>Bad invocation: stop before anything is changed.</summary>
        internal void ThrowInvalidArgument(string reason, string message, string recommendedAction, object? target = null)
        {
            var record = new ErrorRecord(new AcrIdentityException(reason, message, recommendedAction), ErrorId(reason), ErrorCategory.InvalidArgument, target);
            record.ErrorDetails = new ErrorDetails(message) { RecommendedAction = recommendedAction };
            ThrowTerminatingError(record);
        }

        internal ErrorRecord ToErrorRecord(EngineException ex)
        {
            ErrorCategory category = Enum.TryParse(ex.Category.ToString(), out ErrorCategory parsed) ? parsed : ErrorCategory.NotSpecified;
            var exception = new AcrIdentityException(ex.Reason, ex.Message, ex.RecommendedAction, ex);
            // Target is the ARM id the error is about (never the cmdlet), so users can re-run just the failures.
            var record = new ErrorRecord(exception, ErrorId(ex.Reason), category, ex.TargetId);
            record.CategoryInfo.Reason = ex.Reason;
            if (ex.TargetId is not null)
            {
                record.CategoryInfo.TargetName = ex.TargetId;
            }

            record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = ex.RecommendedAction ?? string.Empty };
            return record;
        }

        private string ErrorId(string reason) => MyInvocation.MyCommand.Name + "." + reason;

        private void Report(ErrorRecord record, bool terminating)
        {
            if (terminating)
            {
                ThrowTerminatingError(record);
            }
            else
            {
                WriteError(record);
            }
        }
    }

    internal static class TaskExtensions
    {
        // Task.IsCompletedSuccessfully is not in net472.
        internal static bool Succeeded(this Task task) => task.Status == TaskStatus.RanToCompletion;
    }
}
