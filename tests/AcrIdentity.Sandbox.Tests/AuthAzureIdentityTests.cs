using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Auth;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace AcrIdentity.Sandbox.Tests;

/// <summary>Process-wide environment variables: this collection runs alone.</summary>
[CollectionDefinition("process-environment", DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

/// <summary>Azure.Identity (MSAL.NET's managed-identity sources) against the runAs endpoints.</summary>
[Collection("process-environment")]
public sealed class AuthAzureIdentityTests
{
    [Fact]
    public async Task ManagedIdentityCredential_uses_IDENTITY_ENDPOINT_for_system_and_user_assigned_identities()
    {
        await using var h = await AuthHarness.StartAsync(startRegistries: false);
        await h.ResourceGroupAsync("mi");
        var uamiId = $"/subscriptions/{h.Subscription}/resourceGroups/mi/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ua1";
        var uami = await h.ArmPutAsync(uamiId, "2023-01-31", new JsonObject { ["location"] = "westus" });
        var appId = $"/subscriptions/{h.Subscription}/resourceGroups/mi/providers/Microsoft.Web/sites/func1";
        var app = await h.ArmPutAsync(appId, "2024-11-01", new JsonObject
        {
            ["location"] = "westus", ["kind"] = "functionapp,linux", ["properties"] = new JsonObject(),
            ["identity"] = new JsonObject
            {
                ["type"] = "SystemAssigned, UserAssigned", ["userAssignedIdentities"] = new JsonObject { [uamiId] = new JsonObject() },
            },
        });
        var e = await h.RunAsAsync(appId);
        var saved = (Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT"), Environment.GetEnvironmentVariable("IDENTITY_HEADER"));
        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", e.IdentityEndpoint);
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", e.IdentityHeader);
        try
        {
            var options = new ManagedIdentityCredentialOptions(ManagedIdentityId.SystemAssigned) { Transport = new HttpClientTransport(h.Http) };
            var system = await new ManagedIdentityCredential(options)
                .GetTokenAsync(new TokenRequestContext(["https://management.azure.com/.default"]), default);
            Assert.Equal((string)app["identity"]!["principalId"]!, Oid(system.Token));
            Assert.True(system.ExpiresOn > DateTimeOffset.UtcNow.AddMinutes(30));

            var byClient = new ManagedIdentityCredentialOptions(ManagedIdentityId.FromUserAssignedClientId((string)uami["properties"]!["clientId"]!))
            {
                Transport = new HttpClientTransport(h.Http),
            };
            var user = await new ManagedIdentityCredential(byClient)
                .GetTokenAsync(new TokenRequestContext(["https://containerregistry.azure.net/.default"]), default);
            Assert.Equal((string)uami["properties"]!["principalId"]!, Oid(user.Token));
        }
        finally
        {
            Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", saved.Item1);
            Environment.SetEnvironmentVariable("IDENTITY_HEADER", saved.Item2);
        }
    }

    [Fact]
    public async Task DefaultAzureCredential_reaches_a_VMs_IMDS_through_the_pod_identity_host_including_its_probe()
    {
        await using var h = await AuthHarness.StartAsync(startRegistries: false);
        await h.ResourceGroupAsync("imds");
        var vmId = $"/subscriptions/{h.Subscription}/resourceGroups/imds/providers/Microsoft.Compute/virtualMachines/vm1";
        var vm = await h.ArmPutAsync(vmId, "2024-07-01", new JsonObject
        {
            ["location"] = "westus", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" }, ["properties"] = new JsonObject(),
        });
        var e = await h.RunAsAsync(vmId);
        var names = new[] { "AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
            "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE" };
        var saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        foreach (var n in names) Environment.SetEnvironmentVariable(n, null);
        // MSAL keeps the IMDS address in a static: this is the only test in the process that uses IMDS.
        Environment.SetEnvironmentVariable("AZURE_POD_IDENTITY_AUTHORITY_HOST", e.ImdsEndpoint);
        try
        {
            var dac = new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ExcludeEnvironmentCredential = true, ExcludeWorkloadIdentityCredential = true, ExcludeAzureCliCredential = true,
                ExcludeAzurePowerShellCredential = true, ExcludeAzureDeveloperCliCredential = true, ExcludeVisualStudioCredential = true,
                ExcludeVisualStudioCodeCredential = true, ExcludeInteractiveBrowserCredential = true,
                Transport = new HttpClientTransport(h.Http),
            });
            var token = await dac.GetTokenAsync(new TokenRequestContext(["https://management.azure.com/.default"]), default);
            Assert.Equal((string)vm["identity"]!["principalId"]!, Oid(token.Token));
            // The chain probed without the Metadata header first, then asked properly.
            var imds = h.Host.Requests.Where(x => x.PathAndQuery.StartsWith(ManagedIdentityEndpoints.ImdsPath, StringComparison.Ordinal));
            Assert.NotEmpty(imds);
            Assert.All(imds, x => Assert.Equal(200, x.Status));
        }
        finally
        {
            foreach (var (n, v) in saved) Environment.SetEnvironmentVariable(n, v);
        }
    }

    static string? Oid(string jwt) => (string?)JsonNode.Parse(JwtSigner.FromBase64Url(jwt.Split('.')[1]))!["oid"];
}
