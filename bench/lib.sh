# Shared by the bench/ scripts (sourced, not run): Release build, a standalone sandbox with the
# opt-in request-log file, and the hosted PowerShell. Tables go to stdout, everything else to stderr.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config=Release
sandbox_dll="$repo/src/AcrIdentity.Sandbox/bin/$config/net10.0/AcrIdentity.Sandbox.dll"
pwsh_dll="$repo/tools/PwshHost/bin/$config/net10.0/PwshHost.dll"
work="$(mktemp -d)"
sandbox_pid=""

log() { echo "bench: $*" >&2; }

bench_cleanup() {
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill -TERM "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap bench_cleanup EXIT

# BENCH_NO_BUILD=1 skips the build (repeated runs); figures are only meaningful from a Release build.
bench_build() {
  [ "${BENCH_NO_BUILD:-}" = 1 ] && return 0
  log "dotnet build -c $config"
  dotnet build "$repo/AcrIdentity.sln" -c "$config" -v q -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
}

# start_sandbox SCENARIO_FILE: endpoints in $endpoints, request log lines in $reqlog.
start_sandbox() {
  local state="$work/state"
  rm -rf "$state"; mkdir -p "$state"
  [ -f "$work/ca/ca-bundle.pem" ] || dotnet "$sandbox_dll" init-ca --ca-dir "$work/ca" >/dev/null
  reqlog="$work/requests.tsv"; : >"$reqlog"
  endpoints="$state/endpoints.json"
  ACRIDENTITY_SANDBOX_REQUEST_LOG="$reqlog" \
    dotnet "$sandbox_dll" --state-dir "$state" --ca-dir "$work/ca" --scenario "$1" >"$work/sandbox.log" 2>&1 &
  sandbox_pid=$!
  for _ in $(seq 1 1800); do   # big generated worlds take a while to load on a busy machine
    [ -s "$endpoints" ] && break
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$endpoints" ] || { log "the sandbox did not start"; exit 1; }
  export SSL_CERT_FILE="$work/ca/ca-bundle.pem"   # every child that talks to the sandbox, from its start
}

stop_sandbox() {
  kill -TERM "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=""
}

# Lines in the request log once it has stopped growing (the sandbox flushes it every 100 ms).
log_count() {
  local a b
  a=$(wc -l <"$reqlog"); sleep 0.4; b=$(wc -l <"$reqlog")
  while [ "$a" != "$b" ]; do a=$b; sleep 0.4; b=$(wc -l <"$reqlog"); done
  echo "$b"
}

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

pwsh_run() { dotnet "$pwsh_dll" "$@"; }

# Scenario with generated web apps: gen_scenario FILE APPS [GRANTED] [BEHAVIOURS_JSON]
# One registry (benchreg) and APPS Linux container apps: GRANTED of them, app00000…, have a system
# identity and AcrPull on benchreg (the audit's world); the rest, web00000…, have none (the fleet's).
gen_scenario() {
  python3 - "$@" <<'PY'
import json, sys
path, apps = sys.argv[1], int(sys.argv[2])
granted = int(sys.argv[3]) if len(sys.argv) > 3 else 0
behaviours = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
sub = "be7c0000-0000-4000-8000-000000000009"
app = "/subscriptions/%s/resourceGroups/apps/providers/Microsoft.Web/sites/app%05d"
gens = []
if granted:
    gens.append({"type": "webApp", "count": granted, "namePrefix": "app",
                 "template": {"kind": "app,linux,container", "identity": {"type": "SystemAssigned"}}})
if apps > granted:
    # another prefix (web00000…) so these names never collide with the granted app00000…
    gens.append({"type": "webApp", "count": apps - granted, "namePrefix": "web",
                 "template": {"kind": "app,linux,container",
                              "siteConfig": {"linuxFxVersion": "DOCKER|benchreg.azurecr.io/hello-world:v1"}}})
json.dump({
    "description": "bench/ world: one registry and generated web apps",
    "subscriptions": [{"id": sub, "displayName": "Bench", "resourceGroups": [
        {"name": "reg", "resources": [{"type": "registry", "name": "benchreg"}]},
        {"name": "apps", "generate": gens}]}],
    "roleAssignments": [{"principal": app % (sub, i), "role": "AcrPull", "principalType": "ServicePrincipal",
                         "scope": f"/subscriptions/{sub}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/benchreg"}
                        for i in range(granted)],
    "behaviours": behaviours,
}, open(path, "w"))
PY
}

# PowerShell prologue: sign in as the sandbox's operator (the secret stays inside the engine process).
connect_ps='
$ErrorActionPreference = "Stop"
Import-Module AcrIdentity
$ep = [System.Text.Json.Nodes.JsonNode]::Parse([System.IO.File]::ReadAllText($env:BENCH_ENDPOINTS))
$op = $ep["operator"]
$secret = [System.Net.NetworkCredential]::new("", $op["clientSecret"].ToString()).SecurePassword
$null = Connect-AcrIdentity -Environment $env:BENCH_ENDPOINTS -ServicePrincipal -ApplicationId $op["clientId"].ToString() -ClientSecret $secret
$sub = $ep["subscriptionIds"][0].ToString()
'
