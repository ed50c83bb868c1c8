#!/usr/bin/env bash
# Seed 000 (App Service, system-assigned identity) side by side against one sandbox with a fixed latency on
# every ARM/Resource Graph/token reply: the az CLI command sequence from the doc on myLinuxApp, then one
# Enable-AcrManagedIdentityPull on its twin myLinuxApp2. Requests are counted from the sandbox's request log
# (opt-in file, ACRIDENTITY_SANDBOX_REQUEST_LOG) within each side's time window.
#   bench/seed-recipe.sh [LATENCY_MS]     (default 40)
source "$(dirname "$0")/lib.sh"
source "$repo/tests/cli/az-env.sh"
latency="${1:-40}"
bench_build

# seed-world.json plus the latency and a second Linux app identical to myLinuxApp.
python3 - "$repo/samples/seed-world.json" "$work/scenario.json" "$latency" <<'PY'
import copy, json, sys
d = json.load(open(sys.argv[1]))
rg = d["subscriptions"][0]["resourceGroups"][0]
twin = copy.deepcopy(next(r for r in rg["resources"] if r["name"] == "myLinuxApp"))
twin["name"] = "myLinuxApp2"
rg["resources"].append(twin)
d.setdefault("behaviours", {})["latencyMs"] = int(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
start_sandbox "$work/scenario.json"
export BENCH_ENDPOINTS="$endpoints"
rg=myResourceGroup
utc() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
: >"$work/windows.txt"   # name start end (UTC), one line per measured side

# --- az CLI: sign-in once, then the doc's four commands, each a new az process as a user runs them.
s=$(utc); az_sandbox_login "$endpoints" "$work/az"; e=$(utc); echo "az-login $s $e" >>"$work/windows.txt"
s=$(utc)
principal=$(az webapp identity assign --resource-group "$rg" --name myLinuxApp --query principalId --output tsv)
acr_id=$(az acr show --resource-group "$rg" --name myContainerRegistry --query id --output tsv)
# --assignee-object-id form (as tests/cli/az-cli.sh): the doc's --assignee makes az search Graph with
# servicePrincipals?$filter, which the sandbox does not serve (and which is one Graph call more).
az role assignment create --assignee-object-id "$principal" --assignee-principal-type ServicePrincipal \
  --scope "$acr_id" --role "AcrPull" >/dev/null
az webapp config set --resource-group "$rg" --name myLinuxApp --generic-configurations '{"acrUseManagedIdentityCreds": true}' >/dev/null
e=$(utc); echo "az-recipe $s $e" >>"$work/windows.txt"

# --- the module: one hosted engine; sign-in, then the one command, each timed on its own.
pwsh_run -Command '
$s0 = [DateTime]::UtcNow.ToString("o")
'"$connect_ps"'
$s1 = [DateTime]::UtcNow.ToString("o")
$app = "/subscriptions/$sub/resourceGroups/myResourceGroup/providers/Microsoft.Web/sites/myLinuxApp2"
$r = Enable-AcrManagedIdentityPull -ResourceId $app -Registry myContainerRegistry
$s2 = [DateTime]::UtcNow.ToString("o")
if ($r.Error) { throw "Enable failed: $($r.Error)" }
"WINDOW module-login $s0 $s1"
"WINDOW module-recipe $s1 $s2"
' | sed -n 's/^WINDOW //p' >>"$work/windows.txt"
log_count >/dev/null
# The az side really did the job too (read back as the doc's verification would).
[ "$(az webapp config show -g "$rg" -n myLinuxApp --query acrUseManagedIdentityCreds -o tsv)" = true ] || { log "az recipe did not switch the app"; exit 1; }

python3 - "$work/windows.txt" "$reqlog" "$latency" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import sys
from datetime import datetime
def t(s):  # ISO 8601 with up to 9 fractional digits -> datetime (microseconds)
    s = s.rstrip("Z").replace("+00:00", "")
    if "." in s: a, f = s.split("."); s = a + "." + (f + "000000")[:6]
    return datetime.fromisoformat(s)
win = {l.split()[0]: (t(l.split()[1]), t(l.split()[2])) for l in open(sys.argv[1]) if l.strip()}
log = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
def row(name):
    a, b = win[name]
    hits = [r for r in log if a <= t(r[0]) <= b]
    for r in hits: print(f"{name}: {r[1]} {r[2]} {r[5]}", file=sys.stderr)   # the requests behind each count
    kinds = {}
    for r in hits: kinds[r[3]] = kinds.get(r[3], 0) + 1
    return (b - a).total_seconds(), len(hits), kinds
print(f"### Seed 000 side by side ({sys.argv[3]} ms latency per reply, {sys.argv[4]} cores, load average {sys.argv[5]})\n")
print("| side | step | wall | HTTP requests | by kind |")
print("|---|---|---:|---:|---|")
res = {}
for side, step, key in [("az CLI", "`az login` (cloud registered first)", "az-login"),
                        ("az CLI", "the 4 commands of the doc", "az-recipe"),
                        ("AcrIdentity", "`Import-Module` + `Connect-AcrIdentity`", "module-login"),
                        ("AcrIdentity", "one `Enable-AcrManagedIdentityPull`", "module-recipe")]:
    w, n, k = res[key] = row(key)
    print(f"| {side} | {step} | {w:.2f} s | {n} | {', '.join(f'{a} {b}' for a, b in sorted(k.items()))} |")
(aw, an, _), (mw, mn, _) = res["az-recipe"], res["module-recipe"]
(lw, ln, _), (cw, cn, _) = res["az-login"], res["module-login"]
print(f"\nWith sign-in: az {lw + aw:.2f} s / {ln + an} requests, AcrIdentity {cw + mw:.2f} s / {cn + mn} requests.")
print(f"Recipe: {aw / mw:.1f}x faster; {mn} requests against az's {an} "
      f"(target >= 5x with fewer requests: {'met' if aw / mw >= 5 and mn < an else 'NOT met'}).")
PY
