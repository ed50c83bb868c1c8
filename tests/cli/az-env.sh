# Sourceable: points the real az CLI at a running sandbox as tests/cli/az-cli.sh does (throwaway
# AZURE_CONFIG_DIR, the sandbox CA for requests, the az-compat shim, the sandbox registered as a cloud
# with an /adfs authority) and signs in as the operator service principal. Used by bench/seed-recipe.sh.
#   source tests/cli/az-env.sh; az_sandbox_login ENDPOINTS_JSON CONFIG_DIR
az_env_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

az_sandbox_login() {
  local endpoints="$1" dir="$2" az_bin="${AZ:-$(command -v az || echo /usr/bin/az)}"
  mkdir -p "$dir"
  ep() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$endpoints"; }
  export AZURE_CONFIG_DIR="$dir"
  export REQUESTS_CA_BUNDLE="$(ep "d['caBundle']")"
  export AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_NO_COLOR=true AZURE_CORE_ONLY_SHOW_ERRORS=true
  export PYTHONPATH="$az_env_here/az-compat"   # Debian az 2.45 packaging bugs (see az-compat/sitecustomize.py)
  unset MSI_ENDPOINT MSI_SECRET IDENTITY_ENDPOINT IDENTITY_HEADER AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_TENANT_ID
  python3 - "$endpoints" >"$dir/cloud.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
aud = d.get("activeDirectoryResourceId") or "https://management.core.windows.net/"
print(json.dumps({
    "endpoints": {"resourceManager": d["armEndpoint"], "management": aud, "activeDirectory": d["adfsAuthority"],
                  "activeDirectoryResourceId": aud, "activeDirectoryGraphResourceId": "https://graph.windows.net/",
                  "microsoftGraphResourceId": d.get("microsoftGraphEndpoint") or d["armEndpoint"]},
    "suffixes": {"acrLoginServerEndpoint": ".azurecr.io", "storageEndpoint": "core.windows.net", "keyvaultDns": ".vault.azure.net"},
}))
PY
  "$az_bin" cloud register -n AcrIdentitySandbox --cloud-config @"$dir/cloud.json" >/dev/null
  "$az_bin" cloud set -n AcrIdentitySandbox >/dev/null
  "$az_bin" login --service-principal -u "$(ep "d['operator']['clientId']")" -p "$(ep "d['operator']['clientSecret']")" \
    --tenant "$(ep "d['tenantId']")" >/dev/null
}
