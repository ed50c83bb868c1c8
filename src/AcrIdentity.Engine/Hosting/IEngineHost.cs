using System.Threading;
using System.Threading.Tasks;

namespace AcrIdentity.Engine.Hosting
{
    /// <summary>
    /// What the engine may ask of the PowerShell side. Implementations queue each call and run it on the
    /// pipeline thread (the cmdlet pumps the queue while it waits), so any engine thread may call these.
    /// </summary>
    public interface IEngineHost
    {
        void WriteVerbose(string message);
        void WriteDebug(string message);
        void WriteWarning(string message);
        void WriteProgress(EngineProgress progress);
    }

    /// <summary>A Write-Progress record without PowerShell types. PercentComplete -1 means unknown.</summary>
    public sealed class EngineProgress
    {
        public EngineProgress(int activityId, string activity, string status, int percentComplete = -1, bool completed = false)
        {
            ActivityId = activityId;
            Activity = activity;
            Status = status;
            PercentComplete = percentComplete;
            Completed = completed;
        }

        public int ActivityId { get; }
        public string Activity { get; }
        public string Status { get; }
        public int PercentComplete { get; }
        public bool Completed { get; }
    }
}
