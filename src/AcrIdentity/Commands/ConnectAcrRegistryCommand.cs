using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Login;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// `az acr login` for the current identity (a managed identity with -Identity): gets the registry's refresh
    /// token and writes it where docker, podman and skopeo read credentials, changing only that registry's entry.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "AcrRegistry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(AcrRegistryLogin))]
    public sealed class ConnectAcrRegistryCommand : RegistryTokenCmdlet
    {
        /// <summary>
        /// Docker (config.json), Containers (auth.json for podman/skopeo/buildah) or All (default): podman and skopeo
        /// read their own file before docker's, so an old entry there would shadow a fresh docker-only login.
        /// </summary>
        [Parameter]
        [ValidateSet("Docker", "Containers", "All", IgnoreCase = true)]
        public string Target { get; set; } = "All";

        /// <summary>Return what was written for each tool (never the secret).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            var target = (LoginTarget)Enum.Parse(typeof(LoginTarget), Target, ignoreCase: true);
            // Ask before any network call, so -WhatIf neither signs in nor writes.
            List<AuthFileLocation> approved = AuthFiles.Locate(target)
                .Where(l => ShouldProcess(l.Path, $"Write a registry credential for '{Registry}' ({l.Kind}, from {l.Source})"))
                .ToList();
            if (approved.Count == 0) return;

            var bridge = new PipelineBridge();
            RegistryTokenRequest request = BuildRequest(bridge);
            var outcome = RunEngine(bridge, async (host, ct) =>
            {
                RegistryCredential credential = await RegistryTokenService.GetAsync(request, host, ct).ConfigureAwait(false);
                var written = new List<LoginRecord>();
                var failed = new List<EngineException>();
                foreach (AuthFileLocation location in approved)
                {
                    try
                    {
                        written.Add(await RegistryLogin.WriteAsync(location, credential, host, ct).ConfigureAwait(false));
                    }
                    catch (EngineException ex)
                    {
                        // One tool's file failing (a missing credential helper) does not undo the other's login.
                        failed.Add(ex);
                    }
                }
                return new Outcome(credential.RegistryId, credential.Account, written, failed);
            }, terminating: false);
            if (outcome is null) return;

            foreach (LoginRecord record in outcome.Written)
            {
                string how = record.CredentialHelper is null
                    ? $"{(record.Replaced ? "replaced its entry in" : "added to")} {record.Path}"
                    : $"stored by {record.CredentialHelper} (named in {record.Path})";
                string expires = record.ExpiresOn.HasValue ? $"; expires {record.ExpiresOn.Value.ToLocalTime():yyyy-MM-dd HH:mm zzz}" : string.Empty;
                WriteInformation(new HostInformationMessage { Message = $"Login Succeeded: {record.LoginServer} for {record.Kind}, {how}{expires}." }, new[] { "PSHOST", "AcrIdentity" });
                if (PassThru.IsPresent)
                {
                    WriteObject(new AcrRegistryLogin
                    {
                        LoginServer = record.LoginServer,
                        Username = record.Username,
                        ExpiresOn = record.ExpiresOn,
                        Target = record.Kind.ToString(),
                        Path = record.Path,
                        Method = record.Method,
                        CredentialHelper = record.CredentialHelper,
                        Replaced = record.Replaced,
                        RegistryId = outcome.RegistryId,
                        Identity = outcome.Account,
                    });
                }
            }

            foreach (EngineException error in outcome.Failed)
            {
                WriteError(ToErrorRecord(error));
            }
        }

        private sealed class Outcome
        {
            internal Outcome(string? registryId, string account, List<LoginRecord> written, List<EngineException> failed)
            {
                RegistryId = registryId;
                Account = account;
                Written = written;
                Failed = failed;
            }

            internal string? RegistryId { get; }
            internal string Account { get; }
            internal List<LoginRecord> Written { get; }
            internal List<EngineException> Failed { get; }
        }
    }
}
