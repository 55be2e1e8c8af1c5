#!/usr/bin/env bash
# What `range.ts status FILE` does, the virsh way: list the domains, then ask each of the range's guests
# for its addresses, one virsh process per question (as a shell script around virsh does it).
#   bash bench/clients/status_virsh.sh URI NAME_PREFIX      e.g. test+unix:///default s2b-
set -euo pipefail
uri=${1:?usage: status_virsh.sh URI NAME_PREFIX}
prefix=${2:?usage: status_virsh.sh URI NAME_PREFIX}
for domain in $(virsh -c "$uri" list --all --name); do
  [[ $domain == "$prefix"* ]] || continue
  virsh -c "$uri" domifaddr "$domain"
done
