#!/usr/bin/env bash
# Fleet: N web apps (default 500, no identity yet) piped into one Enable-AcrManagedIdentityPull with the
# sandbox's ARM throttling on (token buckets per subscription x principal x reads/writes/deletes). The lower
# bound is what the buckets allow for the requests that succeeded: for each bucket, (granted - capacity) /
# refill per second, the largest of them. Failures = error records + results with an Error.
#   bench/fleet.sh [APPS] [THROTTLING_JSON]
#   default throttling = the sandbox's (and ARM's) defaults: reads 250 + 25/s, writes 200 + 10/s, deletes 200 + 10/s
source "$(dirname "$0")/lib.sh"
apps="${1:-500}"
throttling="${2:-{\"enabled\": true, \"readCapacity\": 250, \"readRefillPerSecond\": 25, \"writeCapacity\": 200, \"writeRefillPerSecond\": 10, \"deleteCapacity\": 200, \"deleteRefillPerSecond\": 10\}}"
bench_build
gen_scenario "$work/scenario.json" "$apps" 0 "{\"throttling\": $throttling}"
log "starting a sandbox with $apps web apps"
start_sandbox "$work/scenario.json"
export BENCH_ENDPOINTS="$endpoints"

pwsh_run -AllowErrors -Command "$connect_ps"'
$ids = 0..('"$apps"' - 1) | ForEach-Object { "/subscriptions/$sub/resourceGroups/apps/providers/Microsoft.Web/sites/web{0:D5}" -f $_ }
$s1 = [DateTime]::UtcNow.ToString("o")
$results = @($ids | Enable-AcrManagedIdentityPull -Registry benchreg -ErrorVariable errs -ErrorAction SilentlyContinue)
$s2 = [DateTime]::UtcNow.ToString("o")
$failed = @($results | Where-Object { $_.Error }).Count + $errs.Count
"WINDOW $s1 $s2 $($results.Count) $failed"
' >"$work/out.txt" 2>"$work/err.txt" || true
grep -q '^WINDOW' "$work/out.txt" || { log "the PowerShell run failed:"; tail -20 "$work/err.txt" >&2; exit 1; }
log_count >/dev/null

python3 - "$work/out.txt" "$reqlog" "$apps" "$throttling" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
from datetime import datetime
def t(s):
    s = s.rstrip("Z").replace("+00:00", "")
    if "." in s: a, f = s.split("."); s = a + "." + (f + "000000")[:6]
    return datetime.fromisoformat(s)
_, a, b, results, failed = next(l for l in open(sys.argv[1]) if l.startswith("WINDOW")).split()
a, b = t(a), t(b)
apps, th = int(sys.argv[3]), json.loads(sys.argv[4])
log = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
hits = [r for r in log if a <= t(r[0]) <= b]
arm = [r for r in hits if r[3] == "Arm"]
def kind(m): return "read" if m in ("GET", "HEAD") else "delete" if m == "DELETE" else "write"
buckets = {}
for r in arm:
    if r[2] == "429": continue   # refused requests take no token
    seg = r[5].split("?")[0].strip("/").split("/")
    scope = seg[1].lower() if len(seg) > 1 and seg[0].lower() == "subscriptions" else "tenant"
    k = (scope, r[4], kind(r[1])); buckets[k] = buckets.get(k, 0) + 1
cap = {"read": (th.get("readCapacity", 250), th.get("readRefillPerSecond", 25)),
       "write": (th.get("writeCapacity", 200), th.get("writeRefillPerSecond", 10)),
       "delete": (th.get("deleteCapacity", 200), th.get("deleteRefillPerSecond", 10))}
bound, limiting = 0.0, "none"
for (scope, who, k), n in buckets.items():
    c, rate = cap[k]
    need = max(0.0, (n - c) / rate)
    if need > bound: bound, limiting = need, f"{k}s: {n} granted, {c} + {rate:g}/s"
wall = (b - a).total_seconds()
count = lambda k: sum(n for (s, w, kk), n in buckets.items() if kk == k)
throttled = sum(1 for r in arm if r[2] == "429")
print(f"### Fleet: Enable over {apps} web apps from the pipeline, ARM throttling on ({sys.argv[5]} cores, load average {sys.argv[6]})\n")
print("| apps | results | failures | wall | throttle lower bound | wall / bound | ARM reads | ARM writes | 429s |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
ratio = f"{wall / bound:.2f}x" if bound else "n/a"
print(f"| {apps} | {results} | {failed} | {wall:.1f} s | {bound:.1f} s | {ratio} | {count('read')} | {count('write')} | {throttled} |")
print(f"\nBuckets: reads {cap['read'][0]} + {cap['read'][1]:g}/s, writes {cap['write'][0]} + {cap['write'][1]:g}/s; "
      f"the bound comes from {limiting} ({count('read') / apps:.1f} reads and {count('write') / apps:.1f} writes per app).")
ok = bound and wall <= 1.25 * bound
print(f"Target: within 1.25x of the bound and zero failures -> {'met' if ok and failed == '0' and int(results) == apps else 'NOT met'}.")
PY
