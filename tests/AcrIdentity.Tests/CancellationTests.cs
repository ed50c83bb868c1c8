using System.Net;
using System.Net.Sockets;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Ctrl+C (StopProcessing) reaches the engine's HTTP calls instead of waiting for their timeout.</summary>
public class CancellationTests
{
    [Fact]
    public void Stopping_the_pipeline_cancels_a_hanging_request()
    {
        // A server that accepts connections and never answers: the TLS handshake waits for the 100 s timeout.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var held = new List<Socket>();
        _ = Task.Run(async () =>
        {
            try
            {
                while (true) held.Add(await listener.AcceptSocketAsync());
            }
            catch (ObjectDisposedException) { }
            catch (SocketException) { }
        });
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        using var env = EnvScope.Clean();
        using var ps = new PowerShellSession();
        TimeSpan took = ps.RunAndStop("Connect-AcrIdentity -Environment $args[0] -Identity", TimeSpan.FromSeconds(1.5), $"https://127.0.0.1:{port}/");

        Assert.True(took < TimeSpan.FromSeconds(5), $"stopping took {took.TotalSeconds:0.0} s");
        Assert.NotEmpty(held); // the request really was in flight
        listener.Stop();
        held.ForEach(s => s.Dispose());
    }
}
