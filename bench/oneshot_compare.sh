#!/usr/bin/env bash
# One-shot commands against virsh, side by side in one hyperfine run (issue 11): vm_ip.ts NAME against
# `virsh domifaddr NAME`, `range.ts status` against a `virsh list` + `domifaddr` loop over the same
# guests (bench/clients/status_virsh.sh), and an empty `deno run` for Deno's own start. Run it inside
# the lab namespace, under the lab lock, with the 8-guest range of bench/clients/status_range.yaml up:
#   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec bash bench/oneshot_compare.sh \
#     [BEFORE_TREE] [URI] [DOMAIN]
# BEFORE_TREE (optional): a checkout of an older commit, measured in the same run ("before" rows).
# bench/interleave.py runs such commands interleaved (round by round), with each one's CPU.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
before=${1:-}
uri=${2:-test+unix:///default}
domain=${3:-test}
runs=${RUNS:-20}
empty=$(mktemp --suffix=.ts)
trap 'rm -f "$empty"' EXIT
echo "export {};" >"$empty"
commands=(
  "virsh -c $uri domifaddr $domain"
  "deno run --allow-ffi $here/scripts/vm_ip.ts $domain --uri $uri"
)
[[ -n $before ]] && commands+=("deno run --allow-ffi $before/scripts/vm_ip.ts $domain --uri $uri")
if [[ $uri == test+unix://* ]]; then
  commands+=(
    "bash $here/bench/clients/status_virsh.sh $uri s2b-"
    "deno run --allow-ffi --allow-read $here/scripts/range.ts status $here/bench/clients/status_range.yaml"
  )
  [[ -n $before ]] && commands+=(
    "deno run --allow-ffi --allow-read $before/scripts/range.ts status $here/bench/clients/status_range.yaml"
  )
fi
commands+=("deno run $empty")
uptime
# range.ts status exits 1 when a guest has no address (the test driver's guests may have none): -i
hyperfine -N -i -w 3 -r "$runs" --export-json "${EXPORT:-/tmp/oneshot_compare.json}" "${commands[@]}"
uptime
