using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Hosting;

namespace AcrIdentity.Hosting
{
    /// <summary>
    /// The engine's view of the cmdlet. Engine threads only enqueue; the cmdlet runs the queue on the
    /// pipeline thread while it waits (Write* and nested pipelines are only legal there).
    /// </summary>
    internal sealed class PipelineBridge : IEngineHost
    {
        // How long a stopped pipeline waits for the engine to notice its cancelled token.
        private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

        private readonly ConcurrentQueue<Action<PSCmdlet>> _queue = new ConcurrentQueue<Action<PSCmdlet>>();
        private readonly AutoResetEvent _signal = new AutoResetEvent(false);
        private volatile bool _closed;
        private bool _stopping;

        public void WriteVerbose(string message) => Enqueue(c => c.WriteVerbose(message));

        public void WriteDebug(string message) => Enqueue(c => c.WriteDebug(message));

        public void WriteWarning(string message) => Enqueue(c => c.WriteWarning(message));

        public void WriteProgress(EngineProgress progress) => Enqueue(c =>
        {
            var record = new ProgressRecord(progress.ActivityId, progress.Activity, progress.Status)
            {
                PercentComplete = progress.PercentComplete,
                RecordType = progress.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            c.WriteProgress(record);
        });

        /// <summary>Runs <paramref name="work"/> on the pipeline thread (e.g. Get-AzAccessToken) and completes with its result.</summary>
        public Task<T> InvokeOnPipelineAsync<T>(Func<PSCmdlet, T> work, CancellationToken cancellationToken)
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_closed)
            {
                done.SetException(new InvalidOperationException("The PowerShell command that supplied this context has finished; run the command again."));
                return done.Task;
            }

            CancellationTokenRegistration registration = cancellationToken.Register(() => done.TrySetCanceled());
            Enqueue(c =>
            {
                try
                {
                    if (!done.Task.IsCompleted)
                    {
                        done.TrySetResult(work(c));
                    }
                }
                catch (Exception ex)
                {
                    done.TrySetException(ex);
                }
                finally
                {
                    registration.Dispose();
                }
            });
            return done.Task;
        }

        /// <summary>Runs the queue on this (the pipeline) thread until <paramref name="task"/> ends.</summary>
        public void PumpUntil(Task task, PSCmdlet cmdlet, CancellationToken stopping)
        {
            WaitHandle[] handles = { _signal, ((IAsyncResult)task).AsyncWaitHandle, stopping.WaitHandle };
            DateTime? stoppedAt = null;
            while (true)
            {
                Drain(cmdlet);
                if (task.IsCompleted)
                {
                    break;
                }

                if (stopping.IsCancellationRequested)
                {
                    stoppedAt ??= DateTime.UtcNow;
                    TimeSpan left = StopGrace - (DateTime.UtcNow - stoppedAt.Value);
                    if (left <= TimeSpan.Zero)
                    {
                        break;
                    }

                    WaitHandle.WaitAny(new[] { _signal, ((IAsyncResult)task).AsyncWaitHandle }, left);
                }
                else
                {
                    WaitHandle.WaitAny(handles);
                }
            }

            _closed = true;
            Drain(cmdlet);
        }

        private void Enqueue(Action<PSCmdlet> action)
        {
            _queue.Enqueue(action);
            _signal.Set();
        }

        private void Drain(PSCmdlet cmdlet)
        {
            while (_queue.TryDequeue(out Action<PSCmdlet>? action))
            {
                if (_stopping)
                {
                    continue;
                }

                try
                {
                    action(cmdlet);
                }
                catch (PipelineStoppedException)
                {
                    // Ctrl+C: writes now throw; drop the rest, the engine sees its token cancelled.
                    _stopping = true;
                }
            }
        }
    }
}
