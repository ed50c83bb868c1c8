#!/usr/bin/env bash
# Drives the real az CLI (Debian azure-cli 2.45) against the sandbox, as a user would: registers the
# sandbox as a cloud, logs in as a service principal (adfs authority) and with a managed identity
# (MSI_ENDPOINT), runs the seed docs' commands unchanged and reads back what they wrote.
#
#   tests/cli/az-cli.sh [ENDPOINTS_JSON]
#
# With no argument it starts a sandbox with samples/seed-world.json (built dll, or `dotnet build` first)
# and stops it at the end. Needs az, python3 (for JSON) and dotnet; skopeo is used when present.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
az_bin="${AZ:-$(command -v az || echo /usr/bin/az)}"
work="$(mktemp -d)"
sandbox_pid=""

cleanup() {
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill -TERM "$sandbox_pid"
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$work/sandbox.log" ] && tail -20 "$work/sandbox.log" >&2; exit 1; }
step() { echo "== $*"; }
expect_eq() { # what actual expected  (case-insensitive: ARM IDs keep their casing but compare case-insensitively)
  if [ "${2,,}" != "${3,,}" ]; then fail "$1: got '$2', expected '$3'"; fi
  echo "   ok: $1"
}

endpoints="${1:-}"
if [ -z "$endpoints" ]; then
  config="${CONFIGURATION:-Debug}"
  dll="${ACRIDENTITY_SANDBOX_DLL:-$repo/src/AcrIdentity.Sandbox/bin/$config/net10.0/AcrIdentity.Sandbox.dll}"
  [ -f "$dll" ] || dotnet build "$repo/src/AcrIdentity.Sandbox" -c "$config" -v q -nologo >/dev/null
  ca_dir="${ACRIDENTITY_SANDBOX_CA_DIR:-$work/ca}"
  dotnet "$dll" --state-dir "$work/state" --ca-dir "$ca_dir" --scenario "$repo/samples/seed-world.json" >"$work/sandbox.log" 2>&1 &
  sandbox_pid=$!
  endpoints="$work/state/endpoints.json"
  for _ in $(seq 1 600); do
    [ -f "$endpoints" ] && break
    kill -0 "$sandbox_pid" 2>/dev/null || fail "sandbox exited"
    sleep 0.1
  done
  [ -f "$endpoints" ] || fail "no endpoints.json after 60 s"
fi

# One value from endpoints.json by a Python expression over `d`.
ep() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$endpoints"; }
arm="$(ep "d['armEndpoint']")"
tenant="$(ep "d['tenantId']")"
sub="$(ep "d['subscriptionIds'][0]")"
rg=myResourceGroup
registry_id="$(ep "d['registries']['myContainerRegistry']['id']")"
login_server="$(ep "d['registries']['myContainerRegistry']['loginServer']")"
app_id="$(ep "[k for k in d['runAs'] if k.lower().endswith('/microsoft.web/sites/mylinuxapp')][0]")"

step "az cloud register + az login --service-principal (ARM $arm, adfs authority)"
# The shared setup (throwaway AZURE_CONFIG_DIR, CA bundle, az-compat shim, cloud, operator login).
source "$here/az-env.sh"
az_sandbox_login "$endpoints" "$work/az"
# az's own stderr is kept and shown only when a command fails (it never holds tokens: az prints none there).
az() {
  local rc=0
  "$az_bin" "$@" 2>"$work/az.err" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "az $1 $2 failed ($rc):" >&2; cat "$work/az.err" >&2; fi
  return "$rc"
}
trap 'echo "FAIL: line $LINENO" >&2' ERR
expect_eq "subscription after SP login" "$(az account show --query id -o tsv)" "$sub"

step "az webapp identity assign"
principal="$(az webapp identity assign -g "$rg" -n myLinuxApp --query principalId -o tsv)"
[ -n "$principal" ] || fail "no principalId"
expect_eq "webapp identity show" "$(az webapp identity show -g "$rg" -n myLinuxApp --query principalId -o tsv)" "$principal"

step "az acr show --query id"
acr_id="$(az acr show -n myContainerRegistry --query id -o tsv)"
expect_eq "registry id" "$acr_id" "$registry_id"
expect_eq "login server" "$(az acr show -n myContainerRegistry --query loginServer -o tsv)" "$login_server"

step "az role assignment create --assignee-object-id … --assignee-principal-type ServicePrincipal --role AcrPull"
az role assignment create --assignee-object-id "$principal" --assignee-principal-type ServicePrincipal \
  --role AcrPull --scope "$acr_id" >/dev/null

step "az role assignment list --scope"
expect_eq "AcrPull listed for the app's identity" \
  "$(az role assignment list --scope "$acr_id" --query "[?principalId=='$principal'].roleDefinitionName | [0]" -o tsv)" "AcrPull"

step "az webapp config set --generic-configurations"
az webapp config set -g "$rg" -n myLinuxApp --generic-configurations '{"acrUseManagedIdentityCreds": true}' >/dev/null
expect_eq "acrUseManagedIdentityCreds" "$(az webapp config show -g "$rg" -n myLinuxApp --query acrUseManagedIdentityCreds -o tsv)" "true"

step "az identity create / show"
created_client="$(az identity create -g "$rg" -n myScriptId --query clientId -o tsv)"
[ -n "$created_client" ] || fail "no clientId"
expect_eq "identity show clientId" "$(az identity show -g "$rg" -n myScriptId --query clientId -o tsv)" "$created_client"

step "az vm identity assign (system + user-assigned myACRId)"
uami_id="$(az identity show -g "$rg" -n myACRId --query id -o tsv)"
az vm identity assign -g "$rg" -n myDockerVM --identities '[system]' "$uami_id" >/dev/null
expect_eq "vm identity type" "$(az vm identity show -g "$rg" -n myDockerVM --query type -o tsv)" "SystemAssigned, UserAssigned"
expect_eq "vm user-assigned identity" \
  "$(az vm identity show -g "$rg" -n myDockerVM --query "keys(userAssignedIdentities) | [0]" -o tsv)" "$uami_id"

# Power state: what Test-AcrPullAccess -InWorkload reads, and Run Command's refusal of a machine that is not running.
power() { python3 -c 'import json,sys; print(" ".join(s["code"] for v in json.load(sys.stdin) for s in (v.get("statuses") or []) if s["code"].startswith("PowerState/")))'; }
step "az vm deallocate / run-command invoke (refused) / start"
az vm deallocate -g "$rg" -n myDockerVM >/dev/null
expect_eq "vm power state" "$(az vm get-instance-view -g "$rg" -n myDockerVM --query "instanceView.statuses[?starts_with(code,'PowerState/')].code | [0]" -o tsv)" "PowerState/deallocated"
if "$az_bin" vm run-command invoke -g "$rg" -n myDockerVM --command-id RunShellScript --scripts "echo hi" >/dev/null 2>"$work/run.err"; then
  fail "run-command on a deallocated VM succeeded"
fi
grep -q "OperationNotAllowed" "$work/run.err" || fail "run-command on a deallocated VM: $(cat "$work/run.err")"
echo "   ok: run-command refused: OperationNotAllowed"
az vm start -g "$rg" -n myDockerVM >/dev/null
expect_eq "vm power state after start" "$(az vm get-instance-view -g "$rg" -n myDockerVM --query "instanceView.statuses[?starts_with(code,'PowerState/')].code | [0]" -o tsv)" "PowerState/running"

step "az vmss deallocate --instance-ids 1 / stop / start"
az vmss deallocate -g "$rg" -n myScaleSet --instance-ids 1 >/dev/null
expect_eq "instances after deallocating 1" "$(az vmss get-instance-view -g "$rg" -n myScaleSet --instance-id '*' -o json | power)" "PowerState/running PowerState/deallocated"
az vmss stop -g "$rg" -n myScaleSet --instance-ids 0 1 >/dev/null
expect_eq "instances after stop 0 1" "$(az vmss get-instance-view -g "$rg" -n myScaleSet --instance-id '*' -o json | power)" "PowerState/stopped PowerState/deallocated"
az vmss start -g "$rg" -n myScaleSet >/dev/null
expect_eq "instances after start" "$(az vmss get-instance-view -g "$rg" -n myScaleSet --instance-id '*' -o json | power)" "PowerState/running PowerState/running"

step "az acr login --expose-token (operator)"
token_json="$(az acr login --name myContainerRegistry --expose-token -o json)"
expect_eq "expose-token login server" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["loginServer"])' <<<"$token_json")" "$login_server"
python3 -c 'import json,sys; t=json.load(sys.stdin)["accessToken"]; assert t.count(".") == 2' <<<"$token_json" || fail "accessToken is not a JWT"
echo "   ok: accessToken is a JWT"

step "az acr repository list (catalog through the registry's token endpoint)"
expect_eq "repositories" "$(az acr repository list -n myContainerRegistry --query "sort(@) | join(',', @)" -o tsv)" "aci-helloworld,hello-world"

step "az login --identity as the operator (MSI_ENDPOINT), then az acr login --expose-token"
az logout >/dev/null 2>&1 || true
MSI_ENDPOINT="$(ep "d['operator']['msiEndpoint']")"
export MSI_ENDPOINT
az login --identity >/dev/null
expect_eq "logged-in identity" "$(az account show --query user.assignedIdentityInfo -o tsv)" "MSI"
expect_eq "operator sees the resource group" "$(az group show -n "$rg" --query name -o tsv)" "$rg"
expect_eq "expose-token login server (managed identity)" \
  "$(az acr login --name myContainerRegistry --expose-token --query loginServer -o tsv)" "$login_server"
unset MSI_ENDPOINT

# The web app's identity holds only AcrPull, so ARM does not show it the registry and `az acr login -n`
# would fall back to <name>.azurecr.io (real DNS in Azure, nothing here): take its ARM token from az and
# exchange it at the registry, then pull with skopeo.
step "az login --identity as the web app (MSI_ENDPOINT): token exchange and pull with AcrPull"
az logout >/dev/null 2>&1 || true
MSI_ENDPOINT="$(ep "d['runAs']['$app_id']['msiEndpoint']")"
export MSI_ENDPOINT
az login --identity >/dev/null
expect_eq "web app identity sees the subscription" "$(az account show --query id -o tsv)" "$sub"
aad_token="$(az account get-access-token --query accessToken -o tsv)"
expect_eq "token is for the web app's principal" \
  "$(python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))["oid"])' "$aad_token")" "$principal"
app_refresh="$(python3 - "$login_server" "$tenant" "$aad_token" <<'PY'
import json, sys, urllib.parse, urllib.request, ssl, os
login, tenant, token = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
body = urllib.parse.urlencode({"grant_type": "access_token", "service": login, "tenant": tenant, "access_token": token}).encode()
with urllib.request.urlopen(urllib.request.Request(f"https://{login}/oauth2/exchange", data=body), context=ctx) as r:
    print(json.load(r)["refresh_token"])
PY
)"
[ -n "$app_refresh" ] || fail "no registry refresh token for the web app's identity"
echo "   ok: registry refresh token for the web app's identity"
if command -v skopeo >/dev/null; then
  certs="$work/certs"; mkdir -p "$certs"
  python3 -c 'import sys; pem=open(sys.argv[1]).read(); i=pem.rindex("-----BEGIN CERTIFICATE-----"); open(sys.argv[2],"w").write(pem[i:])' \
    "$REQUESTS_CA_BUNDLE" "$certs/ca.crt"
  HOME="$work" skopeo inspect --cert-dir "$certs" --creds "00000000-0000-0000-0000-000000000000:$app_refresh" \
    "docker://$login_server/hello-world:v1" >/dev/null || fail "skopeo could not read hello-world:v1 with the web app's AcrPull"
  echo "   ok: skopeo reads hello-world:v1 with the web app's identity"
fi
unset MSI_ENDPOINT

echo "az-cli: all checks passed"
