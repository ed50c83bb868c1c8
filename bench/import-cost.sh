#!/usr/bin/env bash
# Import cost: in each of N fresh processes (default 11), a hosted PowerShell 7.6 engine times a cold
# `Import-Module AcrIdentity` and the first cmdlet call (Connect-AcrIdentity against a sandbox: it loads the
# engine, Azure.Core/Identity, gets a token and reads the subscription), then prints its peak RSS (VmHWM).
#   bench/import-cost.sh [N]
source "$(dirname "$0")/lib.sh"
runs="${1:-11}"
bench_build
printf '{}' >"$work/empty.json"
start_sandbox "$work/empty.json"
export BENCH_ENDPOINTS="$endpoints"

# Timed inside the child, after the runspace is open: what a user waits for after `pwsh` has started.
script='
$w = [System.Diagnostics.Stopwatch]::StartNew()
Import-Module AcrIdentity
$import = $w.Elapsed.TotalMilliseconds
$jit0 = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
$ep = [System.Text.Json.Nodes.JsonNode]::Parse([System.IO.File]::ReadAllText($env:BENCH_ENDPOINTS))
$op = $ep["operator"]
$secret = [System.Net.NetworkCredential]::new("", $op["clientSecret"].ToString()).SecurePassword
$null = Connect-AcrIdentity -Environment $env:BENCH_ENDPOINTS -ServicePrincipal -ApplicationId $op["clientId"].ToString() -ClientSecret $secret
$total = $w.Elapsed.TotalMilliseconds
$jit = [System.Runtime.JitInfo]::GetCompiledMethodCount($false) - $jit0
$hwm = [regex]::Match([System.IO.File]::ReadAllText("/proc/self/status"), "VmHWM:\s+(\d+)").Groups[1].Value
"RESULT {0:F1} {1:F1} {2} {3}" -f $import, $total, $hwm, $jit
'
: >"$work/runs.txt"
for i in $(seq 1 "$runs"); do
  t0=$(now)
  line=$(pwsh_run -Command "$script" | grep '^RESULT') || { log "run $i failed"; exit 1; }
  t1=$(now)
  echo "$line $(elapsed "$t0" "$t1")" >>"$work/runs.txt"
  log "run $i: $line"
done

python3 - "$work/runs.txt" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import statistics, sys
rows = [l.split()[1:] for l in open(sys.argv[1]) if l.strip()]
imp = [float(r[0]) for r in rows]; tot = [float(r[1]) for r in rows]
first = [t - i for i, t in zip(imp, tot)]
hwm = [int(r[2]) / 1024 for r in rows]; jit = [int(r[3]) for r in rows]; proc = [float(r[4]) * 1000 for r in rows]
med = statistics.median
print(f"### Import cost ({len(rows)} fresh processes, {sys.argv[2]} cores, load average {sys.argv[3]})\n")
print("| measure | median | min | max |")
print("|---|---:|---:|---:|")
for name, xs, unit in [("`Import-Module AcrIdentity`", imp, "ms"), ("first call (`Connect-AcrIdentity`)", first, "ms"),
                       ("import + first call", tot, "ms"), ("whole process (dotnet + runspace + script)", proc, "ms"),
                       ("peak RSS (VmHWM)", hwm, "MiB"), ("methods JIT-compiled by the first call", jit, "")]:
    u = " " + unit if unit else ""
    print(f"| {name} | {med(xs):.0f}{u} | {min(xs):.0f}{u} | {max(xs):.0f}{u} |")
print(f"\nTarget: import + first call <= 250 ms median -> {'met' if med(tot) <= 250 else 'NOT met'} ({med(tot):.0f} ms).")
PY
