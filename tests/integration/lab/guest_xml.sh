#!/usr/bin/env bash
# Print the libvirt domain XML of a lab guest (the kernel and initramfs of build_guest.sh).
#
#   tests/integration/lab/guest_xml.sh NAME MAC NETWORK [MEM_MIB=128] [AGENT=1] > NAME.xml
#   virsh -c qemu:///system create NAME.xml
#
# NAME     domain name, also the guest's hostname (labhost=NAME, sent with its DHCP request)
# MAC      of its one virtio NIC; use a fresh one per run: libvirt's dnsmasq keeps leases across
#          `virsh destroy`, so a reused MAC "has" an address before the guest asked for one
# NETWORK  libvirt network the NIC joins
# MEM_MIB  96..128 is right: 64 does not boot (the kernel alone wants ~67.5 MiB)
# AGENT    1 adds the qemu-ga channel; 0 leaves it out and tells the guest (labagent=0)
#
# Env: GUEST_DIR (as for build_guest.sh), LAB_LOGS (default /var/log/deno_libvirt_lab): the serial
# console goes to $LAB_LOGS/NAME.console, which QEMU truncates at each start.
set -euo pipefail

usage() {
  echo "usage: $0 NAME MAC NETWORK [MEM_MIB=128] [AGENT=1]" >&2
  exit 2
}
(($# >= 3 && $# <= 5)) || usage
NAME=$1 MAC=$2 NETWORK=$3 MEM=${4:-128} AGENT=${5:-1}
GUEST_DIR=${GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno_libvirt/guest}
LAB_LOGS=${LAB_LOGS:-/var/log/deno_libvirt_lab}

# Validate rather than escape: the values go into XML, a file path and the kernel command line.
# NAME is also a hostname: letters, digits, '-', '_' and '.' only.
[[ $NAME =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$ ]] || { echo "$0: bad NAME '$NAME'" >&2; exit 2; }
MAC=${MAC,,}
[[ $MAC =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || { echo "$0: bad MAC '$MAC'" >&2; exit 2; }
# an odd first octet is a multicast address: QEMU accepts it, the guest's NIC never gets a lease
(((16#${MAC:0:2} & 1) == 0)) || { echo "$0: MAC '$MAC' is multicast" >&2; exit 2; }
[[ $NETWORK =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "$0: bad NETWORK '$NETWORK'" >&2; exit 2; }
if ! [[ $MEM =~ ^[0-9]+$ ]] || ((MEM < 80)); then
  echo "$0: MEM_MIB '$MEM': need >= 80 (96..128 advised)" >&2
  exit 2
fi
[[ $AGENT == 0 || $AGENT == 1 ]] || { echo "$0: AGENT must be 0 or 1" >&2; exit 2; }

# absolute paths: libvirtd resolves them, not this shell
case $GUEST_DIR in /*) ;; *) GUEST_DIR=$PWD/$GUEST_DIR ;; esac
case $LAB_LOGS in /*) ;; *) LAB_LOGS=$PWD/$LAB_LOGS ;; esac
for f in vmlinuz initramfs.gz; do
  [[ -s $GUEST_DIR/$f ]] || echo "$0: warning: $GUEST_DIR/$f missing (run build_guest.sh)" >&2
done
# QEMU creates the console file but not its folder
mkdir -p "$LAB_LOGS"

CMDLINE="console=ttyS0 quiet loglevel=3 labhost=$NAME"
((AGENT)) || CMDLINE+=" labagent=0"

# type='qemu': TCG. /dev/kvm exists on these machines but KVM guests spin or die.
# <acpi/> is what makes `virsh shutdown` (ACPI power button) reach the guest's acpid.
# No graphics, no USB: nothing to emulate that the guest does not use.
cat <<XML
<domain type='qemu'>
  <name>$NAME</name>
  <memory unit='MiB'>$MEM</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST_DIR/vmlinuz</kernel>
    <initrd>$GUEST_DIR/initramfs.gz</initrd>
    <cmdline>$CMDLINE</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <interface type='network'>
      <source network='$NETWORK'/>
      <mac address='$MAC'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'>
      <source path='$LAB_LOGS/$NAME.console'/>
      <target port='0'/>
    </serial>
XML
if ((AGENT)); then
  cat <<XML
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
XML
fi
cat <<XML
    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
    <memballoon model='none'/>
  </devices>
</domain>
XML
