#!/usr/bin/env bash
# Installs what deno_libvirt needs on a fresh Debian 12 machine (root). Idempotent.
#   .ci/install.sh --demo   Deno (pinned) and libvirt0: enough for `deno task demo`
#   .ci/install.sh          also the lab (libvirtd, QEMU, dnsmasq, ...) and the benchmark contenders
set -euo pipefail
cd "$(dirname "$0")/.."
DENO_VERSION=2.9.6

log() { printf '[install %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
updated=0
apt_install() {
  local missing=()
  local status
  for p in "$@"; do
    # captured, not piped into grep -q: an early grep exit + pipefail would read as "missing"
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=""
    [[ $status == *"install ok installed"* ]] || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if ((updated == 0)); then apt-get update -qq; updated=1; fi
  log "apt: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Deno comes from npm (JSR and other download hosts are not reachable from our machines).
installed=$(deno --version 2>/dev/null) || installed=""
if [[ $installed != "deno $DENO_VERSION "* ]]; then
  command -v npm >/dev/null || apt_install nodejs npm
  log "npm: deno@$DENO_VERSION"
  npm install -g --silent "deno@$DENO_VERSION" >/dev/null
fi
apt_install libvirt0

if [[ ${1:-} != --demo ]]; then
  # the lab's packages, openssh-server (the second host's sshd, for qemu+ssh) among them: lab.sh
  # installs them with service starts forbidden, so no sshd ever starts on the machine's own port 22
  bash tests/integration/lab/lab.sh install
  # the comparison benchmark's contenders and the tests' tools (hyperfine: bench/oneshot_compare.sh)
  apt_install gcc libc6-dev libvirt-dev python3-libvirt util-linux hyperfine
  # the inventory tests read ours back with ansible-inventory; range.ts graph renders SVG with dot
  apt_install ansible-core graphviz
fi
