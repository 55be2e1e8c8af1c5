#!/usr/bin/env bash
# Fills $DENO_DIR with everything the test suite needs, before it enters the lab's network namespace
# (which has no network at all): every TypeScript file of the repository (tests, fixtures, benchmarks
# and their clients, scripts, examples) with its dependencies, resolved through the project's config
# and lockfile. --frozen: fail if deno.lock does not pin what the code imports. Child processes the
# tests start use the same config and lockfile with --cached-only (tests/_helpers.ts denoChildArgs),
# so this cache is all they get. .ci/run calls it with a fresh, empty DENO_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DENO_DIR:?set DENO_DIR to the cache to fill (.ci/run makes a fresh one)}"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t sources < <(git ls-files -- '*.ts')
else
  mapfile -t sources < <(find . -name '*.ts' -not -path './.lab/*' -not -path './bench/.build/*' | sort)
fi
deno cache --config=deno.json --lock=deno.lock --frozen "${sources[@]}" >/dev/null
printf '[cache %s] cached %d modules and their dependencies into %s\n' "$(date +%H:%M:%S)" "${#sources[@]}" \
  "$DENO_DIR" >&2
