#!/usr/bin/env bash
# Build the integration lab's guest: a Debian cloud kernel plus a ~4 MB busybox initramfs, booted by
# libvirt with direct kernel boot (see guest_xml.sh). The guest loads the virtio drivers, asks DHCP
# for an address on every NIC (sending its hostname), runs qemu-ga on the agent channel and powers off
# on the ACPI power button. It prints machine-readable "LAB: ..." lines to the serial console.
#
#   tests/integration/lab/build_guest.sh          # prints the output folder as the last stdout line
#
# Output ($GUEST_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/deno_libvirt/guest):
#   vmlinuz        the kernel of the .deb that linux-image-cloud-amd64 depends on (downloaded, never installed)
#   initramfs.gz   busybox-static + virtio modules + qemu-ga with its libraries and dynamic loader
#   manifest.json  {"kernel": KVER, "initramfs_sha256": ..., "inputs_sha256": ...}
# The .debs are kept in $GUEST_DIR/../debs so that reruns do not download them again.
#
# Caching: inputs_sha256 covers this script (which holds every guest file below), the .debs' names
# and hashes, /bin/busybox and the host libraries copied in for qemu-ga. When the manifest in
# $GUEST_DIR has the same inputs hash and the files are intact, nothing is rebuilt.
#
# Run as root (apt-get). Progress goes to stderr.
set -euo pipefail

GUEST_DIR=${GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno_libvirt/guest}
mkdir -p "$GUEST_DIR"
GUEST_DIR=$(cd "$GUEST_DIR" && pwd -P) # absolute: the domain XML refers to these files
CACHE_ROOT=$(dirname "$GUEST_DIR")
DEB_DIR=$CACHE_ROOT/debs
SELF=$(readlink -f "${BASH_SOURCE[0]}")
KERNEL_META=linux-image-cloud-amd64
QGA_PKG=qemu-guest-agent

# Module paths below lib/modules/KVER/kernel, in load order: busybox insmod resolves no dependencies.
# failover/net_failover are virtio_net's dependencies; evdev + button turn the ACPI power button into
# an input event that busybox acpid reads from /dev/input/event*.
MODULES=(
  drivers/virtio/virtio_ring
  drivers/virtio/virtio
  drivers/virtio/virtio_pci_modern_dev
  drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci
  net/core/failover
  drivers/net/net_failover
  drivers/net/virtio_net
  drivers/char/virtio_console
  drivers/char/hw_random/virtio-rng
  drivers/input/evdev
  drivers/acpi/button
)
# applets the guest scripts use: checked at build time rather than discovered at boot
APPLETS=(init sh mount insmod hostname ip ifconfig udhcpc acpid ping poweroff reboot halt sleep seq cut cat grep ln mkdir rm
  mkpasswd sed chmod chown httpd id stat sha256sum tr)

log() { printf '[build_guest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------------------------------- host tools
apt_updated=0
apt_update_once() {
  ((apt_updated)) && return 0
  log "apt-get update"
  apt-get update -qq >&2
  apt_updated=1
}
apt_install() {
  (($#)) || return 0
  apt_update_once
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

need=()
# the guest needs a *static* busybox: the Debian package "busybox" also installs a (dynamic) /bin/busybox
if [[ ! -x /bin/busybox || $(ldd /bin/busybox 2>&1) == *"=>"* ]]; then need+=(busybox-static); fi
command -v cpio >/dev/null || need+=(cpio)
apt_install "${need[@]}"
have_applets=$(/bin/busybox --list) # not piped into grep -q: its early exit + pipefail = false alarm
for a in "${APPLETS[@]}"; do
  grep -qx -- "$a" <<<"$have_applets" || die "/bin/busybox lacks the applet '$a'"
done

# Serialise builders sharing this cache (parallel test runs): the debs folder is common to them all.
mkdir -p "$DEB_DIR"
exec 9>"$CACHE_ROOT/.build_guest.lock"
flock -n 9 || { log "waiting for another build_guest.sh"; flock 9; }

WORK=$(mktemp -d "$CACHE_ROOT/.build_guest.XXXXXX") # same filesystem as GUEST_DIR: renames are atomic
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------- .debs
resolve_kernel_pkg() {
  apt-cache depends "$KERNEL_META" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

# Sets KERNEL_DEB and QGA_DEB to verified files in $DEB_DIR, downloading what is missing.
# `apt-get download --print-uris` tells the file name apt would use and its SHA256, without downloading.
fetch_debs() {
  local kpkg line file size hash want=()
  kpkg=$(resolve_kernel_pkg)
  if [[ -z $kpkg ]]; then # fresh machine: no package lists yet
    apt_update_once
    kpkg=$(resolve_kernel_pkg)
  fi
  [[ -n $kpkg ]] || die "apt-cache depends $KERNEL_META names no linux-image package"
  KERNEL_DEB='' QGA_DEB=''
  while read -r line; do
    # 'URL' FILE SIZE SHA256:HEX
    read -r _ file size hash <<<"$line"
    hash=${hash#SHA256:}
    want+=("$file")
    if [[ ! -f $DEB_DIR/$file ]] || [[ $(sha256 "$DEB_DIR/$file") != "$hash" ]]; then
      local pkg=${file%%_*} out
      log "downloading $pkg ($((size / 1024)) KiB)"
      rm -f "${DEB_DIR:?}/$file"
      # as root, apt warns that the download is unsandboxed (user _apt cannot write here): harmless
      if ! out=$(cd "$DEB_DIR" && apt-get download -q "$pkg" 2>&1); then
        printf '%s\n' "$out" >&2
        return 1
      fi
      printf '%s\n' "$out" | grep -v unsandboxed >&2 || true
      [[ -f $DEB_DIR/$file && $(sha256 "$DEB_DIR/$file") == "$hash" ]] || {
        log "$file: missing or wrong SHA256 after download"
        return 1
      }
    fi
    case $file in
      "$kpkg"_*) KERNEL_DEB=$DEB_DIR/$file ;;
      "$QGA_PKG"_*) QGA_DEB=$DEB_DIR/$file ;;
    esac
  done < <(apt-get download --print-uris "$kpkg" "$QGA_PKG" 2>/dev/null)
  [[ -n $KERNEL_DEB && -n $QGA_DEB ]] || {
    log "apt-get download --print-uris did not name both $kpkg and $QGA_PKG"
    return 1
  }
  # drop superseded versions so the cache does not grow with every kernel update
  local f keep
  for f in "$DEB_DIR"/*.deb; do
    [[ -e $f ]] || continue
    keep=0
    for file in "${want[@]}"; do [[ ${f##*/} == "$file" ]] && keep=1; done
    ((keep)) || { log "removing superseded ${f##*/}"; rm -f "$f"; }
  done
}
# stale package lists point at versions the archive no longer has: refresh once and retry
fetch_debs || { apt_update_once && fetch_debs; } || die "could not download the .debs"

# qemu-ga's binary is needed now already: the host libraries ldd lists for it are inputs too
mkdir -p "$WORK/qga"
dpkg-deb -x "$QGA_DEB" "$WORK/qga"
QGA_BIN=$WORK/qga/usr/sbin/qemu-ga
[[ -x $QGA_BIN ]] || die "$QGA_DEB has no usr/sbin/qemu-ga"
# ldd lines: "libfoo.so.1 => /lib/.../libfoo.so.1 (0x..)", "/lib64/ld-linux-x86-64.so.2 (0x..)", vdso
ldd_out=$(ldd "$QGA_BIN") || die "ldd $QGA_BIN failed"
if grep -q 'not found' <<<"$ldd_out"; then
  die "qemu-ga needs libraries this host lacks (install them, e.g. apt-get install $QGA_PKG):
$(grep 'not found' <<<"$ldd_out")"
fi
mapfile -t QGA_LIBS < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out")
[[ " ${QGA_LIBS[*]} " == *"/ld-linux"* ]] || die "ldd named no dynamic loader for qemu-ga"

# ---------------------------------------------------------------------------------------- cache check
# The libraries are not in the brief's list of inputs but come from the host: a glib security update
# changes what goes into the initramfs, so they count too.
INPUTS_SHA256=$(
  {
    echo "script $(sha256 "$SELF")"
    echo "deb ${KERNEL_DEB##*/} $(sha256 "$KERNEL_DEB")"
    echo "deb ${QGA_DEB##*/} $(sha256 "$QGA_DEB")"
    echo "busybox $(sha256 /bin/busybox)"
    for lib in "${QGA_LIBS[@]}"; do echo "lib $lib $(sha256 "$lib")"; done
  } | sha256sum | cut -d' ' -f1
)
manifest_field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$GUEST_DIR/manifest.json" 2>/dev/null; }
if [[ -f $GUEST_DIR/manifest.json && -s $GUEST_DIR/vmlinuz && -s $GUEST_DIR/initramfs.gz ]] &&
  [[ $(manifest_field inputs_sha256) == "$INPUTS_SHA256" ]] &&
  [[ $(manifest_field initramfs_sha256) == "$(sha256 "$GUEST_DIR/initramfs.gz")" ]]; then
  log "up to date (kernel $(manifest_field kernel), inputs ${INPUTS_SHA256:0:12})"
  echo "$GUEST_DIR"
  exit 0
fi
log "building (inputs ${INPUTS_SHA256:0:12}) in $GUEST_DIR"

# ---------------------------------------------------------------------------------------- kernel
# Extract only the kernel image, modules.builtin and our modules: the whole package unpacks to
# ~100 MB of modules we do not need. tar complains about patterns that match nothing (a module
# may be built in): what is really missing is checked below.
kpatterns=('./boot/vmlinuz-*' '*/lib/modules/*/modules.builtin')
for m in "${MODULES[@]}"; do kpatterns+=("*/lib/modules/*/kernel/$m.ko*"); done
mkdir -p "$WORK/kernel"
dpkg-deb --fsys-tarfile "$KERNEL_DEB" |
  tar -x -C "$WORK/kernel" --wildcards "${kpatterns[@]}" 2>&1 | grep -v -e 'Not found in archive' -e 'Exiting with failure' >&2 || true
MODROOT=$(find "$WORK/kernel" -type d -path '*/lib/modules/*' -prune -print -quit)
[[ -n $MODROOT ]] || die "no lib/modules/KVER in ${KERNEL_DEB##*/}"
KVER=${MODROOT##*/}
[[ -s $WORK/kernel/boot/vmlinuz-$KVER ]] || die "no boot/vmlinuz-$KVER in ${KERNEL_DEB##*/}"

# ---------------------------------------------------------------------------------------- rootfs
R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc/acpi,proc,sys,dev,run,tmp,var,modules,lib64}
ln -s ../run "$R/var/run"
chmod 1777 "$R/tmp"
# The kernel opens /dev/console for init's stdio before anything mounts devtmpfs: without the node
# busybox init and its early messages would have no console.
mknod -m 600 "$R/dev/console" c 5 1 || log "warning: mknod dev/console failed; early init output is lost"

cp /bin/busybox "$R/bin/busybox"
while read -r applet; do
  [[ -e $R/$applet || -L $R/$applet ]] || ln -s /bin/busybox "$R/$applet"
done < <(/bin/busybox --list-full)
ln -s bin/busybox "$R/init" # the kernel runs /init of an initramfs; busybox sees argv[0] "init"

: >"$R/modules/order"
for m in "${MODULES[@]}"; do
  base=${m##*/}
  src=$MODROOT/kernel/$m
  if [[ -f $src.ko ]]; then
    cp "$src.ko" "$R/modules/$base.ko"
  elif [[ -f $src.ko.xz ]]; then # busybox insmod may lack xz support: store them decompressed
    command -v xz >/dev/null || apt_install xz-utils
    xz -dc "$src.ko.xz" >"$R/modules/$base.ko"
  elif [[ -f $src.ko.zst ]]; then
    command -v zstd >/dev/null || apt_install zstd
    zstd -dcq "$src.ko.zst" >"$R/modules/$base.ko"
  elif grep -qx "kernel/$m.ko" "$MODROOT/modules.builtin" 2>/dev/null; then
    log "$base is built into $KVER"
    continue
  else
    die "module $m is neither in ${KERNEL_DEB##*/} nor built in"
  fi
  echo "$base.ko" >>"$R/modules/order"
done

# qemu-ga + every library ldd lists + the dynamic loader, at the paths ldd printed (cp -L: /lib64's
# loader is a symlink into /lib/x86_64-linux-gnu on Debian)
cp "$QGA_BIN" "$R/usr/sbin/qemu-ga"
for lib in "${QGA_LIBS[@]}"; do
  mkdir -p "$R${lib%/*}"
  cp -L "$lib" "$R$lib"
done

echo labvm >"$R/etc/hostname"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$R/etc/shadow"
chmod 600 "$R/etc/shadow"
mkdir -p "$R/home" "$R/srv/www"
echo "LAB web" >"$R/srv/www/index.html"

# Account tools. Debian's busybox-static has no adduser/chpasswd, but range tasks (CyRIS add_account,
# modify_account) and qemu-ga's guest-set-user-password run the standard useradd/usermod/chpasswd.
# These shims implement the flags those callers use, on /etc/passwd, /etc/shadow and /etc/group.
cat >"$R/usr/sbin/useradd" <<'EOF'
#!/bin/sh
# useradd [-m] [-d HOME] [-s SHELL] [-p HASH] [-u UID] [-G GROUPS] NAME
home= shell=/bin/sh hash='!' uid= groups= mk=0
name=
while [ $# -gt 0 ]; do
  case "$1" in
    -m) mk=1; shift ;;
    -d) home=$2; shift 2 ;;
    -s) shell=$2; shift 2 ;;
    -p) hash=$2; shift 2 ;;
    -u) uid=$2; shift 2 ;;
    -G) groups=$2; shift 2 ;;
    -*) echo "useradd: unsupported option $1" >&2; exit 2 ;;
    *) name=$1; shift ;;
  esac
done
[ -n "$name" ] || { echo "useradd: no user name" >&2; exit 2; }
if grep -q "^$name:" /etc/passwd; then echo "useradd: user '$name' already exists" >&2; exit 9; fi
if [ -z "$uid" ]; then
  uid=999
  for u in $(cut -d: -f3 /etc/passwd); do [ "$u" -gt "$uid" ] && uid=$u; done
  uid=$((uid + 1))
fi
next_gid() {
  n=999
  for u in $(cut -d: -f3 /etc/group); do [ "$u" -gt "$n" ] && n=$u; done
  echo $((n + 1))
}
home=${home:-/home/$name}
ugid=$uid
cut -d: -f3 /etc/group | grep -qx "$uid" && ugid=$(next_gid)
echo "$name:x:$uid:$ugid::$home:$shell" >>/etc/passwd
echo "$name:x:$ugid:" >>/etc/group
echo "$name:$hash:19000:0:99999:7:::" >>/etc/shadow
for g in $(echo "$groups" | tr , ' '); do
  grep -q "^$g:" /etc/group || echo "$g:x:$(next_gid):" >>/etc/group
  sed -i "s/^\($g:[^:]*:[^:]*:\)\(.\+\)$/\1\2,$name/; s/^\($g:[^:]*:[^:]*:\)$/\1$name/" /etc/group
done
if [ "$mk" = 1 ]; then mkdir -p "$home" && chown "$uid:$ugid" "$home" && chmod 755 "$home"; fi
exit 0
EOF
cat >"$R/usr/sbin/usermod" <<'EOF'
#!/bin/sh
# usermod [-l NEWNAME] [-p HASH] [-s SHELL] [-d HOME [-m]] NAME
new= hash= shell= home=
name=
while [ $# -gt 0 ]; do
  case "$1" in
    -l) new=$2; shift 2 ;;
    -p) hash=$2; shift 2 ;;
    -s) shell=$2; shift 2 ;;
    -d) home=$2; shift 2 ;;
    -m) shift ;;
    -*) echo "usermod: unsupported option $1" >&2; exit 2 ;;
    *) name=$1; shift ;;
  esac
done
grep -q "^$name:" /etc/passwd || { echo "usermod: user '$name' does not exist" >&2; exit 6; }
if [ -n "$new" ] && [ "$new" != "$name" ] && grep -q "^$new:" /etc/passwd; then
  echo "usermod: user '$new' already exists" >&2; exit 9
fi
[ -n "$hash" ] && sed -i "s|^$name:[^:]*:|$name:$hash:|" /etc/shadow
[ -n "$shell" ] && sed -i "s|^\($name:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:\).*$|\1$shell|" /etc/passwd
[ -n "$home" ] && sed -i "s|^\($name:[^:]*:[^:]*:[^:]*:[^:]*:\)[^:]*:|\1$home:|" /etc/passwd
if [ -n "$new" ]; then
  sed -i "s/^$name:/$new:/" /etc/passwd /etc/shadow /etc/group
  # supplementary group member lists name the user too
  sed -i "s/\([:,]\)$name\(,\|\$\)/\1$new\2/" /etc/group
fi
exit 0
EOF
cat >"$R/usr/sbin/chpasswd" <<'EOF'
#!/bin/sh
# chpasswd [-e]: "user:password" lines on stdin; -e means the passwords are already crypt(3) hashes
enc=0
[ "$1" = -e ] && enc=1
while IFS= read -r line; do
  name=${line%%:*} pass=${line#*:}
  grep -q "^$name:" /etc/shadow || { echo "chpasswd: user '$name' does not exist" >&2; exit 1; }
  if [ "$enc" = 1 ]; then hash=$pass; else hash=$(mkpasswd -m sha512 "$pass") || exit 1; fi
  sed -i "s|^$name:[^:]*:|$name:$hash:|" /etc/shadow
done
exit 0
EOF
chmod 755 "$R/usr/sbin/useradd" "$R/usr/sbin/usermod" "$R/usr/sbin/chpasswd"

cat >"$R/etc/inittab" <<'EOF'
::sysinit:/etc/rc
::ctrlaltdel:/bin/busybox reboot
::shutdown:/etc/rc.shutdown
EOF

# busybox acpid chdirs to its -c folder and runs the action as ./ACTION
cat >"$R/etc/acpid.conf" <<'EOF'
PWRF poweroff
EOF
cat >"$R/etc/acpi/poweroff" <<'EOF'
#!/bin/sh
echo "LAB: acpi power button t=$(cut -d' ' -f1 /proc/uptime)" >/dev/console
exec /bin/busybox poweroff
EOF

# qemu-ga's guest-shutdown execs "/sbin/shutdown -P|-H|-r +0 MSG", which busybox lacks: map it, so
# that `virsh shutdown/reboot --mode agent` work too
cat >"$R/sbin/shutdown" <<'EOF'
#!/bin/sh
echo "LAB: shutdown $* t=$(cut -d' ' -f1 /proc/uptime)" >/dev/console
case " $* " in
  *" -r "*) exec /bin/busybox reboot ;;
  *" -H "*) exec /bin/busybox halt ;;
  *) exec /bin/busybox poweroff ;;
esac
EOF

# busybox udhcpc event script: $1 is the event, the lease comes in the environment
cat >"$R/etc/udhcpc.sh" <<'EOF'
#!/bin/sh
# shellcheck disable=SC2154 # interface, ip, subnet, router, serverid: set by udhcpc
ev=$1
t=$(cut -d' ' -f1 /proc/uptime)
mac=$(cat /sys/class/net/"$interface"/address)
case "$ev" in
  deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    rm -f /run/ip."$interface" /run/gw."$interface"
    ;;
  bound|renew)
    # a renewal that keeps the address must not flush it: that would drop the guest's connections
    if [ "$(cat /run/ip."$interface" 2>/dev/null)" != "$ip" ]; then
      ip addr flush dev "$interface"
      ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    fi
    gw=
    if [ -n "$router" ]; then
      # shellcheck disable=SC2086 # router is a list: split it, the first one wins
      set -- $router
      gw=$1
      # several NICs: the first one with a router keeps the default route
      ip route show default | grep -q . || ip route add default via "$gw" dev "$interface"
    fi
    echo "$ip" >/run/ip."$interface"
    # isolated networks hand out no router: keep the neighbour tables warm via the DHCP server
    echo "${gw:-$serverid}" >/run/gw."$interface"
    echo "LAB: dhcp $ev ifc=$interface ip=$ip mac=$mac gw=${gw:-none} server=${serverid:-none} t=$t" >/dev/console
    ;;
esac
exit 0
EOF

cat >"$R/etc/rc" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
exec >/dev/console 2>&1
up() { cut -d' ' -f1 /proc/uptime; }
cmdline=$(cat /proc/cmdline)
arg() { for w in $cmdline; do case "$w" in "$1"=*) echo "${w#*=}"; return ;; esac; done; }

while read -r m; do
  insmod /modules/"$m" || echo "LAB: insmod failed module=$m"
done </modules/order
HN=$(arg labhost); HN=${HN:-labvm}
hostname "$HN"
echo "$HN" >/etc/hostname
ip link set lo up
echo "LAB: modules loaded host=$HN t=$(up)"

# ACPI power button -> /etc/acpi/poweroff (evdev + button are loaded above)
acpid -c /etc/acpi -a /etc/acpid.conf -l /run/acpid.log

# qemu-ga on the virtio-serial port named org.qemu.guest_agent.0. No udev, hence no
# /dev/virtio-ports links: find the port in sysfs. Ports appear asynchronously once the host has
# announced them, so poll a little, in the background so that DHCP is not held up.
if [ "$(arg labagent)" != 0 ]; then
  (
    for _ in $(seq 1 50); do
      for p in /sys/class/virtio-ports/*; do
        [ "$(cat "$p"/name 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
        dev=/dev/${p##*/}
        mkdir -p /dev/virtio-ports && ln -sf "$dev" /dev/virtio-ports/org.qemu.guest_agent.0
        /usr/sbin/qemu-ga -m virtio-serial -p "$dev" -t /run -l /run/qga.log &
        echo "LAB: agent started port=$dev t=$(up)"
        exit 0
      done
      sleep 0.1
    done
    echo "LAB: agent port org.qemu.guest_agent.0 not found t=$(up)"
  ) &
fi

# DHCP on every NIC at once (one without a DHCP server must not hold up the others); udhcpc stays
# for renewals, keeps retrying if nobody answers, sends the hostname (option 12) so that the lease
# carries it, and releases the lease when init terminates it at shutdown (-R). Its own chatter goes
# to /run; the event script prints the LAB lines.
for i in /sys/class/net/eth*; do
  [ -e "$i" ] || continue
  ifc=${i##*/}
  ip link set "$ifc" up
  udhcpc -f -R -i "$ifc" -s /etc/udhcpc.sh -t 5 -T 1 -A 2 -x hostname:"$HN" \
    -p /run/udhcpc."$ifc".pid >/run/udhcpc."$ifc".log 2>&1 &
done

# Ping each interface's gateway (or DHCP server) every few seconds so that the host's neighbour
# table keeps an entry for the guest (domifaddr --source arp).
(
  while :; do
    for f in /run/gw.*; do
      [ -s "$f" ] && ping -c 1 -W 1 "$(cat "$f")" >/dev/null 2>&1
    done
    sleep 3
  done
) &

# Two web listeners for firewall tests (one port allowed, one filtered): nothing else listens.
httpd -p 80 -h /srv/www
httpd -p 8080 -h /srv/www
echo "LAB: ready host=$HN t=$(up)"
EOF

cat >"$R/etc/rc.shutdown" <<'EOF'
#!/bin/sh
echo "LAB: shutting down t=$(cut -d' ' -f1 /proc/uptime)" >/dev/console
EOF
chmod 755 "$R/etc/rc" "$R/etc/rc.shutdown" "$R/etc/udhcpc.sh" "$R/etc/acpi/poweroff" "$R/sbin/shutdown"

# ---------------------------------------------------------------------------------------- pack
# Reproducible archive: sorted names, fixed mtimes, cpio --reproducible (inode numbers), gzip -n.
# The same inputs then give the same initramfs_sha256 on any machine.
find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort |
  cpio -o -H newc -R 0:0 --reproducible --quiet | gzip -9n) >"$WORK/initramfs.gz"
size=$(stat -c %s "$WORK/initramfs.gz")
((size > 1000000)) || die "initramfs.gz is only $size bytes"
INITRAMFS_SHA256=$(sha256 "$WORK/initramfs.gz")

# Publish: manifest first out, files renamed in, manifest last in, so a half-written folder is never
# taken for a finished one.
rm -f "$GUEST_DIR/manifest.json"
mv "$WORK/kernel/boot/vmlinuz-$KVER" "$GUEST_DIR/vmlinuz"
mv "$WORK/initramfs.gz" "$GUEST_DIR/initramfs.gz"
cat >"$WORK/manifest.json" <<EOF
{
  "kernel": "$KVER",
  "initramfs_sha256": "$INITRAMFS_SHA256",
  "inputs_sha256": "$INPUTS_SHA256"
}
EOF
mv "$WORK/manifest.json" "$GUEST_DIR/manifest.json"
log "built kernel $KVER, initramfs $((size / 1024)) KiB, ${#QGA_LIBS[@]} qemu-ga libraries"
echo "$GUEST_DIR"
