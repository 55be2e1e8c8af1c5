#!/usr/bin/env bash
# The integration lab: a real libvirtd (QEMU driver, TCG) living in a network namespace of its own.
#
#   tests/integration/lab/lab.sh install     Debian packages + the libvirt-qemu user (idempotent)
#   tests/integration/lab/lab.sh up          config, namespace, libvirtd; waits until its socket answers
#   tests/integration/lab/lab.sh restart     stop and start libvirtd (guests keep running), for reconnect tests
#   tests/integration/lab/lab.sh down        guests, networks, libvirtd, namespace: everything `up` made
#   tests/integration/lab/lab.sh status      what is running
#
# Why a namespace: every bridge, dnsmasq and guest libvirt creates then lives in $LAB_NETNS, so no
# packet can reach eth0 or the root namespace's routes. The UNIX socket /run/libvirt/libvirt-sock is a
# filesystem object, so clients in the root namespace still reach the daemon.
# See ../shared/notes/lab-recipe.md for every error a fresh Debian 12 machine hits and its fix.
set -euo pipefail

LAB_NETNS=${LAB_NETNS:-dlvlab}
LAB_STATE=${LAB_STATE:-/run/deno_libvirt_lab}
PIDFILE=/run/libvirtd.pid
export LIBVIRT_DEFAULT_URI=qemu:///system

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

packages=(libvirt0 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
  dnsmasq-base iptables iproute2 busybox-static cpio gzip)

cmd_install() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The QEMU driver resolves its compiled-in user at start even when qemu.conf says root; the package
  # that creates it (libvirt-daemon-system) drags in systemd units, so create it here.
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd --system -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
}

write_config() {
  mkdir -p /etc/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt "$LAB_STATE"
  # root QEMU, no ownership games on our files, QEMU stdio to a plain file (no virtlogd needed)
  cat >/etc/libvirt/qemu.conf <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
CONF
  # max_client_requests: libvirtd's default of 5 per client is fine for one-op-per-connection pools.
  cat >/etc/libvirt/libvirtd.conf <<'CONF'
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
}

daemon_pid() {
  [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && cat "$PIDFILE"
}

wait_for_socket() {
  for _ in $(seq 1 300); do
    virsh -c test+unix:///default version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "libvirtd did not answer within 30 s; see /var/log/libvirt/libvirtd.log"
  return 1
}

start_daemon() {
  if pid=$(daemon_pid); then
    log "libvirtd already running (pid $pid)"
    return 0
  fi
  ip netns list | grep -qw "$LAB_NETNS" || ip netns add "$LAB_NETNS"
  ip netns exec "$LAB_NETNS" ip link set lo up
  rm -f "$PIDFILE"
  ip netns exec "$LAB_NETNS" libvirtd -d --pid-file "$PIDFILE"
  wait_for_socket
  log "libvirtd $(cat "$PIDFILE") answering on /run/libvirt/libvirt-sock (netns $LAB_NETNS)"
}

stop_daemon() {
  local pid
  pid=$(daemon_pid) || return 0
  kill "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "libvirtd $pid did not stop in 10 s; sending SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
}

cmd_up() {
  cmd_install
  write_config
  start_daemon
}

cmd_restart() {
  stop_daemon
  start_daemon
}

cmd_down() {
  if daemon_pid >/dev/null; then
    # networks before the daemon: killing libvirtd first leaves their dnsmasq processes behind
    for d in $(virsh list --name --all 2>/dev/null); do
      virsh -q destroy "$d" >/dev/null 2>&1 || true
      virsh -q undefine "$d" --managed-save --snapshots-metadata --nvram >/dev/null 2>&1 || true
    done
    for n in $(virsh net-list --name --all 2>/dev/null); do
      virsh -q net-destroy "$n" >/dev/null 2>&1 || true
      virsh -q net-undefine "$n" >/dev/null 2>&1 || true
    done
    stop_daemon
  fi
  if ip netns list | grep -qw "$LAB_NETNS"; then
    for p in $(ip netns pids "$LAB_NETNS" 2>/dev/null); do
      log "left in netns $LAB_NETNS: pid $p $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
    done
    ip netns del "$LAB_NETNS"
  fi
}

cmd_status() {
  if pid=$(daemon_pid); then echo "libvirtd: running (pid $pid, netns $LAB_NETNS)"; else echo "libvirtd: stopped"; fi
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  restart) cmd_restart ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|up|restart|down|status" >&2; exit 2 ;;
esac
