#!/usr/bin/env bash
# All four benchmarks, one after another (one Release build first); the tables go to stdout.
#   bench/all.sh > figures.md      (about 5 minutes on a loaded 2-core machine)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dotnet build "$here/../AcrIdentity.sln" -c Release -v q -nologo >&2
export BENCH_NO_BUILD=1
for b in import-cost seed-recipe fleet audit; do
  "$here/$b.sh"
  echo
done
