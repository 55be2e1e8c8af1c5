#!/usr/bin/env bash
# The integration lab: a real libvirtd (QEMU driver, TCG) living in a network namespace of its own.
#
#   tests/integration/lab/lab.sh install     Debian packages + the libvirt-qemu user (idempotent)
#   tests/integration/lab/lab.sh up          config, namespace, libvirtd, networks, image pool, guest
#                                            artefacts, and the second host; writes $LAB_STATE/lab.json
#   tests/integration/lab/lab.sh daemon      only config, namespace and libvirtd (enough for unit tests)
#   tests/integration/lab/lab.sh restart     stop and start libvirtd (guests keep running), for reconnect tests
#   tests/integration/lab/lab.sh down        guests, networks, pools, both daemons, namespaces: all `up` made
#   tests/integration/lab/lab.sh sshd-up     (part of up) sshd for the second host, qemu+ssh on 10.77.9.2:2222;
#                                            idempotent, adds it to a running lab and its lab.json
#   tests/integration/lab/lab.sh sshd-down   (part of down) stops that sshd (by its pid file) and removes its keys
#   tests/integration/lab/lab.sh status      what is running
#   tests/integration/lab/lab.sh exec CMD..  run CMD inside the lab namespace (where the guests' bridges are)
#
# Layout (all inside network namespaces; nothing is added to the root namespace's links or routes):
#   netns dlvlab   libvirtd #1 (qemu:///system, socket /run/libvirt/libvirt-sock), networks
#                  dlvnat (NAT, 10.77.1.0/24) and dlviso (isolated, 10.77.2.0/24), veth dlv-h1 10.77.9.1/30
#   netns dlvlab2  libvirtd #2 with private /run/libvirt, /etc/libvirt, /var/lib/libvirt, ... (its own
#                  mount namespace), listening on qemu+tcp://10.77.9.2/system; veth dlv-h2 10.77.9.2/30.
#                  Reachable from inside dlvlab: the tests run there (`lab.sh exec deno task test`).
#                  An sshd in the same two namespaces (10.77.9.2:2222, key authentication only, its keys,
#                  authorized_keys and known_hosts under $LAB_STATE/ssh: nothing in /root/.ssh or /etc/ssh
#                  is used or changed) serves qemu+ssh://root@10.77.9.2:2222/system and qemu+libssh://.
#
# Why a namespace: every bridge, dnsmasq and guest libvirt creates then lives in $LAB_NETNS, so no
# packet can reach eth0 or the root namespace's routes. The UNIX socket /run/libvirt/libvirt-sock is a
# filesystem object, so clients in the root namespace still reach the daemon.
# See ../shared/notes/lab-recipe.md for every error a fresh Debian 12 machine hits and its fix.
set -euo pipefail

LAB_NETNS=${LAB_NETNS:-dlvlab}
LAB_NETNS2=${LAB_NETNS2:-dlvlab2}
LAB_STATE=${LAB_STATE:-/run/deno_libvirt_lab}
LAB_DATA=${LAB_DATA:-/var/lib/deno_libvirt_lab}
LAB_LOGS=${LAB_LOGS:-/var/log/deno_libvirt_lab}
GUEST_DIR=${GUEST_DIR:-/var/cache/deno_libvirt_lab/guest}
HOST2=$LAB_STATE/host2
PIDFILE=/run/libvirtd.pid
PIDFILE2=$HOST2/libvirtd.pid
HOST1_ADDR=10.77.9.1
HOST2_ADDR=10.77.9.2
SSH_PORT=${LAB_SSH_PORT:-2222}
SSH_DIR=$LAB_STATE/ssh
SSHD_PIDFILE=$SSH_DIR/sshd.pid
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
export LIBVIRT_DEFAULT_URI=qemu:///system

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# `outputs PATTERN CMD...`: true when CMD succeeds and prints a line matching PATTERN. Never
# `CMD | grep -q`: grep exits at its first match, CMD may then die of SIGPIPE, and with pipefail the
# whole test reads as false (seen: "network is already active" from a net-start it should have skipped).
outputs() {
  local pattern=$1 out
  shift
  out=$("$@" 2>/dev/null) || return 1
  grep -q -- "$pattern" <<<"$out"
}

# `without_inherited_fds CMD...`: runs CMD with only stdin/out/err open. A daemon started from a script
# that runs under `flock LOCK ...` would otherwise inherit the lock's descriptor and hold the lock for
# as long as it lives (seen: a libvirtd restarted by a reconnect test kept every later flock waiting).
without_inherited_fds() {
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-"
    done
    exec "$@"
  )
}

packages=(libvirt0 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
  dnsmasq-base iptables iproute2 busybox-static cpio gzip openssh-server openssh-client)

cmd_install() {
  local missing=()
  for p in "${packages[@]}"; do
    outputs 'install ok installed' dpkg-query -W -f='${Status}' "$p" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    # Packages must not start services: openssh-server's postinst would start an sshd on port 22 of
    # the root namespace. Docker images ship a policy-rc.d that forbids it; elsewhere we add one for
    # the install and remove it again (only if we made it).
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
      printf '#!/bin/sh\n# deno_libvirt lab.sh install: no service starts during the install\nexit 101\n' >"$policy"
      chmod 755 "$policy"
      made_policy=1
    fi
    local status=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
    ((made_policy)) && rm -f "$policy"
    ((status == 0)) || return "$status"
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

# libvirt networks of the lab: NAT and isolated, libvirt's DHCP. no-ping: leases in ~1 s instead of
# after dnsmasq's 3 s probe; short leases bound the stale entries a destroyed guest leaves behind.
network_xml() { # NAME BRIDGE SUBNET(a.b.c) FORWARD(nat|none)
  local forward=""
  [[ $4 == nat ]] && forward="<forward mode='nat'/>"
  cat <<XML
<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>
  <name>$1</name>
  $forward
  <bridge name='$2' stp='off' delay='0'/>
  <ip address='$3.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='$3.10' end='$3.250'>
        <lease expiry='10' unit='minutes'/>
      </range>
    </dhcp>
  </ip>
  <dnsmasq:options>
    <dnsmasq:option value='no-ping'/>
  </dnsmasq:options>
</network>
XML
}

ensure_network() { # URI NAME BRIDGE SUBNET FORWARD
  local uri=$1
  if ! virsh -c "$uri" net-info "$2" >/dev/null 2>&1; then
    network_xml "$2" "$3" "$4" "$5" >"$LAB_STATE/$2.xml"
    virsh -q -c "$uri" net-define "$LAB_STATE/$2.xml" >/dev/null
  fi
  outputs '^Active:.*yes' virsh -c "$uri" net-info "$2" || virsh -q -c "$uri" net-start "$2" >/dev/null
}

ensure_image_pool() {
  mkdir -p "$LAB_DATA/images"
  if ! virsh pool-info dlvimages >/dev/null 2>&1; then
    cat >"$LAB_STATE/dlvimages.xml" <<XML
<pool type='dir'><name>dlvimages</name><target><path>$LAB_DATA/images</path></target></pool>
XML
    virsh -q pool-define "$LAB_STATE/dlvimages.xml" >/dev/null
  fi
  outputs '^State:.*running' virsh pool-info dlvimages || virsh -q pool-start dlvimages >/dev/null
}

# The second hypervisor host: a libvirtd in its own network namespace AND its own mount namespace, so
# that its runtime, state and config folders do not collide with the first daemon's.
host2_pid() {
  [[ -f $PIDFILE2 ]] && kill -0 "$(cat "$PIDFILE2")" 2>/dev/null && cat "$PIDFILE2"
}

start_host2() {
  if pid=$(host2_pid); then
    log "second libvirtd already running (pid $pid)"
    return 0
  fi
  outputs "^$LAB_NETNS2\b" ip netns list || ip netns add "$LAB_NETNS2"
  ip -n "$LAB_NETNS2" link set lo up
  if ! ip -n "$LAB_NETNS" link show dlv-h1 >/dev/null 2>&1; then
    # created inside the namespaces: the root namespace never sees either end
    ip -n "$LAB_NETNS" link add dlv-h1 type veth peer name dlv-h2 netns "$LAB_NETNS2"
    ip -n "$LAB_NETNS" addr add "$HOST1_ADDR/30" dev dlv-h1
    ip -n "$LAB_NETNS2" addr add "$HOST2_ADDR/30" dev dlv-h2
    ip -n "$LAB_NETNS" link set dlv-h1 up
    ip -n "$LAB_NETNS2" link set dlv-h2 up
  fi
  local d
  for d in run etc lib log cache; do mkdir -p "$HOST2/$d"; done
  cp /etc/libvirt/qemu.conf "$HOST2/etc/qemu.conf"
  cat >"$HOST2/etc/libvirtd.conf" <<CONF
listen_tls = 0
listen_tcp = 1
listen_addr = "$HOST2_ADDR"
auth_tcp = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
CONF
  rm -f "$PIDFILE2"
  without_inherited_fds ip netns exec "$LAB_NETNS2" unshare --mount --propagation private bash -c "
    mount --bind '$HOST2/run' /run/libvirt
    mount --bind '$HOST2/etc' /etc/libvirt
    mount --bind '$HOST2/lib' /var/lib/libvirt
    mount --bind '$HOST2/log' /var/log/libvirt
    mount --bind '$HOST2/cache' /var/cache/libvirt
    exec libvirtd -d --listen --pid-file '$PIDFILE2'
  "
  for _ in $(seq 1 300); do
    ip netns exec "$LAB_NETNS" virsh -c "qemu+tcp://$HOST2_ADDR/system" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  ip netns exec "$LAB_NETNS" virsh -c "qemu+tcp://$HOST2_ADDR/system" version >/dev/null 2>&1 ||
    { log "second libvirtd did not answer on $HOST2_ADDR within 30 s; see $HOST2/log/libvirtd.log"; return 1; }
  # its guests get an isolated network of their own
  local uri2="qemu+tcp://$HOST2_ADDR/system"
  if ! ip netns exec "$LAB_NETNS" virsh -c "$uri2" net-info dlvh2 >/dev/null 2>&1; then
    network_xml dlvh2 dlvh2br0 10.77.3 none >"$LAB_STATE/dlvh2.xml"
    ip netns exec "$LAB_NETNS" virsh -q -c "$uri2" net-define "$LAB_STATE/dlvh2.xml" >/dev/null
  fi
  outputs '^Active:.*yes' ip netns exec "$LAB_NETNS" virsh -c "$uri2" net-info dlvh2 ||
    ip netns exec "$LAB_NETNS" virsh -q -c "$uri2" net-start dlvh2 >/dev/null
  log "second libvirtd $(cat "$PIDFILE2") answering on qemu+tcp://$HOST2_ADDR/system (netns $LAB_NETNS2)"
}

stop_host2() {
  local pid uri2="qemu+tcp://$HOST2_ADDR/system"
  if pid=$(host2_pid); then
    for d in $(ip netns exec "$LAB_NETNS" virsh -c "$uri2" list --name --all 2>/dev/null); do
      ip netns exec "$LAB_NETNS" virsh -q -c "$uri2" destroy "$d" >/dev/null 2>&1 || true
      ip netns exec "$LAB_NETNS" virsh -q -c "$uri2" undefine "$d" --managed-save --snapshots-metadata --nvram >/dev/null 2>&1 || true
    done
    for n in $(ip netns exec "$LAB_NETNS" virsh -c "$uri2" net-list --name --all 2>/dev/null); do
      ip netns exec "$LAB_NETNS" virsh -q -c "$uri2" net-destroy "$n" >/dev/null 2>&1 || true
    done
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  fi
  if outputs "^$LAB_NETNS2\b" ip netns list; then
    for p in $(ip netns pids "$LAB_NETNS2" 2>/dev/null); do
      log "left in netns $LAB_NETNS2: pid $p $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
    done
    ip netns del "$LAB_NETNS2"
  fi
  rm -rf "$HOST2"
}

# The second host's sshd: qemu+ssh:// and qemu+libssh:// to host 2. It runs inside libvirtd #2's
# network AND mount namespaces (nsenter on that daemon's pid), so the remote helper it starts
# (virt-ssh-helper, or nc with proxy=netcat) finds host 2's /run/libvirt/libvirt-sock, not host 1's.
# Everything it uses lives in $SSH_DIR: its host key, the lab's client key pair, the authorized_keys
# it reads (AuthorizedKeysFile, so root's ~/.ssh is never read or changed), a known_hosts with its
# host key, and an ssh wrapper + client config for qemu+ssh (URI parameter command=): the ssh binary
# transport has no known_hosts parameter, and without the wrapper ssh would read and, with
# no_verify=1, write /root/.ssh/known_hosts.
sshd_pid() {
  [[ -f $SSHD_PIDFILE ]] && kill -0 "$(cat "$SSHD_PIDFILE")" 2>/dev/null && cat "$SSHD_PIDFILE"
}

ssh_uri() { # the lab's qemu+ssh URI: key file, the lab's known_hosts (through the wrapper), no prompts
  echo "qemu+ssh://root@$HOST2_ADDR:$SSH_PORT/system?keyfile=$SSH_DIR/id_ed25519&no_tty=1&command=$SSH_DIR/ssh"
}

libssh_uri() { # the same over libvirt's built-in libssh client, which reads known_hosts itself
  echo "qemu+libssh://root@$HOST2_ADDR:$SSH_PORT/system?keyfile=$SSH_DIR/id_ed25519&known_hosts=$SSH_DIR/known_hosts&known_hosts_verify=normal&sshauth=privkey"
}

# One line of lab.json (inside "secondHost"), so that sshd-up can add it to a running lab's file.
lab_json_ssh_line() {
  printf '    "ssh": { "uri": "%s", "libsshUri": "%s", "address": "%s", "port": %s, "user": "root", "keyFile": "%s", "knownHosts": "%s", "sshCommand": "%s", "sshConfig": "%s", "hostKey": "%s", "pidFile": "%s", "log": "%s" },\n' \
    "$(ssh_uri)" "$(libssh_uri)" "$HOST2_ADDR" "$SSH_PORT" "$SSH_DIR/id_ed25519" "$SSH_DIR/known_hosts" \
    "$SSH_DIR/ssh" "$SSH_DIR/ssh_config" "$SSH_DIR/ssh_host_ed25519_key.pub" "$SSHD_PIDFILE" "$SSH_DIR/sshd.log"
}

write_ssh_files() {
  mkdir -p "$SSH_DIR"
  chmod 700 "$SSH_DIR"
  [[ -f $SSH_DIR/ssh_host_ed25519_key ]] ||
    ssh-keygen -q -t ed25519 -N '' -C "deno_libvirt lab host2" -f "$SSH_DIR/ssh_host_ed25519_key"
  [[ -f $SSH_DIR/id_ed25519 ]] ||
    ssh-keygen -q -t ed25519 -N '' -C "deno_libvirt lab client" -f "$SSH_DIR/id_ed25519"
  # restrict: no pty, no forwarding of any kind; the command libvirt sends still runs
  printf 'restrict %s\n' "$(cat "$SSH_DIR/id_ed25519.pub")" >"$SSH_DIR/authorized_keys"
  chmod 600 "$SSH_DIR/authorized_keys"
  printf '[%s]:%s %s\n' "$HOST2_ADDR" "$SSH_PORT" "$(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_ed25519_key.pub")" \
    >"$SSH_DIR/known_hosts"
  cat >"$SSH_DIR/sshd_config" <<CONF
# deno_libvirt lab: sshd of the second host (lab.sh sshd-up); only inside netns $LAB_NETNS2
Port $SSH_PORT
ListenAddress $HOST2_ADDR
HostKey $SSH_DIR/ssh_host_ed25519_key
PidFile $SSHD_PIDFILE
AuthorizedKeysFile $SSH_DIR/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PermitRootLogin prohibit-password
AllowUsers root
UsePAM no
UseDNS no
PermitUserEnvironment no
AllowTcpForwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
PrintLastLog no
MaxStartups 64:30:128
LoginGraceTime 20
LogLevel VERBOSE
CONF
  # the client side for qemu+ssh (command=$SSH_DIR/ssh): the lab's known_hosts and key only, never a
  # prompt; -o options libvirt adds (StrictHostKeyChecking=no for no_verify=1) win over this file
  cat >"$SSH_DIR/ssh_config" <<CONF
# deno_libvirt lab: ssh client settings for qemu+ssh to the second host (lab.sh sshd-up)
Host *
  UserKnownHostsFile $SSH_DIR/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  IdentitiesOnly yes
  BatchMode yes
  ConnectTimeout 10
  LogLevel ERROR
CONF
  cat >"$SSH_DIR/ssh" <<SH
#!/bin/sh
# libvirt's qemu+ssh transport runs this as its ssh binary (URI parameter command=$SSH_DIR/ssh)
exec ssh -F '$SSH_DIR/ssh_config' "\$@"
SH
  chmod 755 "$SSH_DIR/ssh"
}

# Adds (or replaces) the "ssh" line of secondHost in an existing lab.json; nothing else changes.
add_ssh_to_lab_json() {
  local json=$LAB_STATE/lab.json line
  [[ -f $json ]] || return 0
  line=$(lab_json_ssh_line)
  grep -q '^    "uri": "qemu+tcp://' "$json" || { log "cannot find secondHost in $json"; return 1; }
  sed -i '/^    "ssh": /d' "$json"
  # after secondHost's uri line: awk, because the line holds & and / that sed's replacement would eat
  awk -v add="$line" '{ print } /^    "uri": "qemu\+tcp:\/\// { print add }' "$json" >"$json.tmp"
  mv "$json.tmp" "$json"
}

start_sshd() {
  local host2 pid
  command -v sshd >/dev/null || [[ -x /usr/sbin/sshd ]] ||
    { log "sshd is missing: run lab.sh install (Debian package openssh-server)"; return 1; }
  host2=$(host2_pid) || { log "the second libvirtd is not running: run lab.sh up first"; return 1; }
  if pid=$(sshd_pid); then
    log "sshd already running (pid $pid)"
    return 0
  fi
  write_ssh_files
  mkdir -p /run/sshd # its privilege separation directory (Debian's path, compiled in; also for -t)
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config"
  rm -f "$SSHD_PIDFILE"
  # sshd forks into the background and writes its pid file; it keeps none of our descriptors
  without_inherited_fds nsenter --target "$host2" --net --mount \
    /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log"
  local uri
  uri=$(ssh_uri)
  for _ in $(seq 1 100); do
    ip netns exec "$LAB_NETNS" virsh -c "$uri" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  ip netns exec "$LAB_NETNS" virsh -c "$uri" version >/dev/null 2>&1 ||
    { log "no answer over $uri within 10 s; see $SSH_DIR/sshd.log"; return 1; }
  log "sshd $(cat "$SSHD_PIDFILE") answering: $uri"
}

stop_sshd() {
  local pid
  if pid=$(sshd_pid); then
    # the listener, and the sessions it forked that are still open (a client that never closed) with
    # what runs in them (virt-ssh-helper, ...): they would outlive it in the namespace `down` deletes
    local tree=() next=("$pid") p
    while ((${#next[@]})); do
      tree+=("${next[@]}")
      # shellcheck disable=SC2207 # pids: no spaces, no globs
      next=($(for p in "${next[@]}"; do ps -o pid= --ppid "$p" 2>/dev/null || true; done))
    done
    kill "${tree[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  fi
  rm -rf "$SSH_DIR"
  [[ -f $LAB_STATE/lab.json ]] && sed -i '/^    "ssh": /d' "$LAB_STATE/lab.json"
  return 0
}

cmd_sshd_up() {
  start_sshd
  add_ssh_to_lab_json
}

write_lab_json() {
  local kernel initrd
  kernel=$GUEST_DIR/vmlinuz
  initrd=$GUEST_DIR/initramfs.gz
  cat >"$LAB_STATE/lab.json" <<JSON
{
  "netns": "$LAB_NETNS",
  "uri": "qemu:///system",
  "networks": {
    "nat": { "name": "dlvnat", "bridge": "dlvnat0", "prefix": "10.77.1", "gateway": "10.77.1.1" },
    "isolated": { "name": "dlviso", "bridge": "dlviso0", "prefix": "10.77.2", "gateway": "10.77.2.1" }
  },
  "imagePool": { "name": "dlvimages", "path": "$LAB_DATA/images" },
  "guest": { "dir": "$GUEST_DIR", "kernel": "$kernel", "initrd": "$initrd", "xmlScript": "$HERE/guest_xml.sh" },
  "logs": "$LAB_LOGS",
  "labScript": "$HERE/lab.sh",
  "secondHost": {
    "netns": "$LAB_NETNS2",
    "uri": "qemu+tcp://$HOST2_ADDR/system",
$(if sshd_pid >/dev/null; then lab_json_ssh_line; fi)
    "network": { "name": "dlvh2", "bridge": "dlvh2br0", "prefix": "10.77.3", "gateway": "10.77.3.1" }
  }
}
JSON
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
  outputs "^$LAB_NETNS\b" ip netns list || ip netns add "$LAB_NETNS"
  ip netns exec "$LAB_NETNS" ip link set lo up
  rm -f "$PIDFILE"
  without_inherited_fds ip netns exec "$LAB_NETNS" libvirtd -d --pid-file "$PIDFILE"
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

cmd_daemon() {
  cmd_install
  write_config
  start_daemon
}

cmd_up() {
  cmd_daemon
  mkdir -p "$LAB_STATE" "$LAB_LOGS"
  ensure_network qemu:///system dlvnat dlvnat0 10.77.1 nat
  ensure_network qemu:///system dlviso dlviso0 10.77.2 none
  ensure_image_pool
  GUEST_DIR=$GUEST_DIR bash "$HERE/build_guest.sh" >/dev/null
  start_host2
  start_sshd
  write_lab_json
  log "lab up: $LAB_STATE/lab.json"
}

cmd_restart() {
  stop_daemon
  start_daemon
}

cmd_down() {
  stop_sshd
  stop_host2
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
    for p in $(virsh pool-list --name --all 2>/dev/null); do
      virsh -q pool-destroy "$p" >/dev/null 2>&1 || true
      virsh -q pool-undefine "$p" >/dev/null 2>&1 || true
    done
    stop_daemon
  fi
  if outputs "^$LAB_NETNS\b" ip netns list; then
    for p in $(ip netns pids "$LAB_NETNS" 2>/dev/null); do
      log "left in netns $LAB_NETNS: pid $p $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
    done
    ip netns del "$LAB_NETNS"
  fi
  rm -rf "$LAB_DATA/images" "$LAB_STATE"
}

cmd_status() {
  if pid=$(daemon_pid); then echo "libvirtd: running (pid $pid, netns $LAB_NETNS)"; else echo "libvirtd: stopped"; fi
  if pid=$(host2_pid); then echo "libvirtd #2: running (pid $pid, netns $LAB_NETNS2)"; else echo "libvirtd #2: stopped"; fi
  if pid=$(sshd_pid); then echo "sshd #2: running (pid $pid, $HOST2_ADDR:$SSH_PORT, netns $LAB_NETNS2)"; else echo "sshd #2: stopped"; fi
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  daemon) cmd_daemon ;;
  exec) shift; exec ip netns exec "$LAB_NETNS" "$@" ;;
  restart) cmd_restart ;;
  down) cmd_down ;;
  sshd-up) cmd_sshd_up ;;
  sshd-down) stop_sshd ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|up|daemon|restart|down|sshd-up|sshd-down|status|exec CMD..." >&2; exit 2 ;;
esac
