using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AcrIdentity.Tests;

/// <summary>
/// After one Enable call per seed recipe, the real az CLI (Debian azure-cli) reads back the state the recipe's own
/// az commands would have produced.
/// </summary>
public sealed class EnableAzCliTests
{
    private const string Az = "/usr/bin/az";

    private sealed class AzSession : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("acrid-az").FullName;
        private readonly Dictionary<string, string> _env;

        public AzSession(EnableSandbox s)
        {
            string endpoints = File.ReadAllText(s.Host.EndpointsFile);
            var d = JsonNode.Parse(endpoints)!;
            _env = new Dictionary<string, string>
            {
                ["AZURE_CONFIG_DIR"] = Path.Combine(_dir, "az"),
                ["REQUESTS_CA_BUNDLE"] = (string)d["caBundle"]!,
                ["AZURE_CORE_COLLECT_TELEMETRY"] = "false",
                ["AZURE_CORE_ONLY_SHOW_ERRORS"] = "true",
                // Two Debian az 2.45 packaging bugs, patched for az only (tests/cli/az-compat).
                ["PYTHONPATH"] = Path.Combine(Harness.Repo.Root, "tests", "cli", "az-compat"),
            };
            string resource = (string?)d["activeDirectoryResourceId"] ?? "https://management.core.windows.net/";
            var cloud = new JsonObject
            {
                ["endpoints"] = new JsonObject
                {
                    ["resourceManager"] = (string)d["armEndpoint"]!,
                    ["management"] = resource,
                    ["activeDirectory"] = (string)d["adfsAuthority"]!,
                    ["activeDirectoryResourceId"] = resource,
                    ["activeDirectoryGraphResourceId"] = "https://graph.windows.net/",
                    ["microsoftGraphResourceId"] = (string?)d["microsoftGraphEndpoint"] ?? (string)d["armEndpoint"]!,
                },
                ["suffixes"] = new JsonObject { ["acrLoginServerEndpoint"] = ".azurecr.io", ["storageEndpoint"] = "core.windows.net", ["keyvaultDns"] = ".vault.azure.net" },
            };
            string cloudFile = Path.Combine(_dir, "cloud.json");
            File.WriteAllText(cloudFile, cloud.ToJsonString());
            Run("cloud", "register", "-n", "AcrIdentitySandbox", "--cloud-config", "@" + cloudFile);
            Run("cloud", "set", "-n", "AcrIdentitySandbox");
            Run("login", "--service-principal", "-u", (string)d["operator"]!["clientId"]!, "-p", (string)d["operator"]!["clientSecret"]!, "--tenant", (string)d["tenantId"]!);
        }

        public string Run(params string[] args)
        {
            var start = new ProcessStartInfo(Az) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in args) start.ArgumentList.Add(a);
            foreach (var kv in _env) start.Environment[kv.Key] = kv.Value;
            foreach (string v in new[] { "MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID" }) start.Environment.Remove(v);
            using var p = Process.Start(start)!;
            Task<string> stdout = p.StandardOutput.ReadToEndAsync();
            Task<string> stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(120_000), "az " + string.Join(' ', args) + " did not finish");
            Assert.True(p.ExitCode == 0, $"az {args[0]} {args[1]} failed ({p.ExitCode}): {stderr.Result}");
            return stdout.Result.Trim();
        }

        public void Dispose()
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Fact]
    public async Task Az_reads_back_what_Enable_wrote_for_seeds_000_and_004()
    {
        Assert.True(File.Exists(Az), "the az CLI (Debian azure-cli) is a test prerequisite: tools/install-prereqs installs it");
        await using var s = await EnableSandbox.StartAsync();
        var web = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry", s.LinuxApp);
        var vm = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -UserAssignedIdentity myACRId", s.Vm);
        Assert.Empty(web.Errors);
        Assert.Empty(vm.Errors);
        string webPrincipal = (string)web.Output[0].Properties["PrincipalId"].Value;
        string uamiPrincipal = (string)vm.Output[0].Properties["PrincipalId"].Value;

        using var az = new AzSession(s);
        const string rg = "myResourceGroup";
        string acrId = az.Run("acr", "show", "-n", "myContainerRegistry", "--query", "id", "-o", "tsv");
        Assert.Equal(s.Registry, acrId, ignoreCase: true);

        Assert.Equal(webPrincipal, az.Run("webapp", "identity", "show", "-g", rg, "-n", "myLinuxApp", "--query", "principalId", "-o", "tsv"));
        Assert.Equal("true", az.Run("webapp", "config", "show", "-g", rg, "-n", "myLinuxApp", "--query", "acrUseManagedIdentityCreds", "-o", "tsv"));
        Assert.Equal("AcrPull", az.Run("role", "assignment", "list", "--scope", acrId, "--query", $"[?principalId=='{webPrincipal}'].roleDefinitionName | [0]", "-o", "tsv"));

        Assert.Equal(s.Uami, az.Run("vm", "identity", "show", "-g", rg, "-n", "myDockerVM", "--query", "keys(userAssignedIdentities) | [0]", "-o", "tsv"), ignoreCase: true);
        Assert.Equal("AcrPull", az.Run("role", "assignment", "list", "--scope", acrId, "--query", $"[?principalId=='{uamiPrincipal}'].roleDefinitionName | [0]", "-o", "tsv"));
        var all = JsonNode.Parse(az.Run("role", "assignment", "list", "--scope", acrId, "-o", "json"))!.AsArray();
        Assert.Equal(2, all.Count);
        Assert.All(all, a => Assert.Equal("ServicePrincipal", (string?)a!["principalType"]));
    }
}
