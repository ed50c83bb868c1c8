#!/usr/bin/env bash
# Audit: Get-AcrPullAccess -Registry benchreg over worlds of N web apps, each with a system identity and its
# own AcrPull grant on benchreg (a fresh sandbox per size, no added latency). Prints wall time and requests by
# kind, to show whether cost grows with Resource Graph pages (1,000 rows each) or with apps.
#   bench/audit.sh [SIZES...]      (default: 1000 10000; about a minute for both on a loaded 2-core machine,
#                                   half of it starting the sandboxes and loading the worlds)
source "$(dirname "$0")/lib.sh"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
bench_build
: >"$work/rows.txt"
for apps in "${sizes[@]}"; do
  gen_scenario "$work/scenario.json" "$apps" "$apps"
  log "starting a sandbox with $apps granted web apps"
  start_sandbox "$work/scenario.json"
  export BENCH_ENDPOINTS="$endpoints"
  pwsh_run -Command "$connect_ps"'
$s1 = [DateTime]::UtcNow.ToString("o")
$rows = @(Get-AcrPullAccess -Registry benchreg)
$s2 = [DateTime]::UtcNow.ToString("o")
"WINDOW $s1 $s2 $($rows.Count) $(@($rows | Where-Object Role -eq AcrPull).Count)"
' >"$work/out.txt" 2>"$work/err.txt" || { log "the PowerShell run failed:"; tail -20 "$work/err.txt" >&2; exit 1; }
  log_count >/dev/null
  python3 - "$work/out.txt" "$reqlog" "$apps" >>"$work/rows.txt" <<'PY'
import sys
from datetime import datetime
def t(s):
    s = s.rstrip("Z").replace("+00:00", "")
    if "." in s: a, f = s.split("."); s = a + "." + (f + "000000")[:6]
    return datetime.fromisoformat(s)
_, a, b, rows, pull = next(l for l in open(sys.argv[1]) if l.startswith("WINDOW")).split()
a, b = t(a), t(b)
hits = [r for r in (l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()) if a <= t(r[0]) <= b]
n = lambda k: sum(1 for r in hits if r[3] == k)
served = sum(float(r[6]) for r in hits) / 1000   # the sandbox's own time on those requests
print(sys.argv[3], rows, pull, f"{(b - a).total_seconds():.2f}", f"{served:.2f}", len(hits), n("Arm"), n("Arg"), n("Graph"), n("Token"))
PY
  stop_sandbox
done

python3 - "$work/rows.txt" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print(f"### Audit: Get-AcrPullAccess -Registry over N granted web apps ({sys.argv[2]} cores, load average {sys.argv[3]})\n")
print("| apps | entries (AcrPull) | wall | of it, the sandbox answering | HTTP requests | ARM | Resource Graph | Microsoft Graph | token |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for apps, entries, pull, wall, served, total, arm, arg, graph, tok in rows:
    print(f"| {int(apps):,} | {int(entries):,} ({int(pull):,}) | {float(wall):.1f} s | {float(served):.1f} s | {total} | {arm} | {arg} | {graph} | {tok} |")
if len(rows) > 1:
    d_apps, d_req = int(rows[-1][0]) - int(rows[0][0]), int(rows[-1][5]) - int(rows[0][5])
    pages = -(-int(rows[-1][0]) // 1000) - -(-int(rows[0][0]) // 1000)
    print(f"\n{d_apps:,} more apps cost {d_req} more requests; {pages} more 1,000-row page(s) in each of the two big "
          f"queries (role assignments, identity-bearing resources) would be {2 * pages}: requests grow with Resource Graph pages, not with apps"
          f"{'' if d_req <= 2 * pages + 2 else ' -- NOT met: more than pages'}.")
PY
