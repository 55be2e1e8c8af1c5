#!/usr/bin/python3
"""libvirt-python side of bench/range_compare.ts: a range brought up and down the way the CyRIS fork
does it, over ONE connection, sequentially:

    /usr/bin/python3 bench/clients/range_python.py URI SPEC.json

SPEC.json (written by bench/range_compare.ts or bench/range_lab_compare.ts from the same range
description upRange gets):
{"pool": NAME, "network_xml": XML, "network": NAME, "wait": "each" (default) or "all",
 "guests": [{"name": N, "volume": V, "volume_xml": XML, "domain_xml": XML with @VOLUME_PATH@}]}

up:   define + start the network; per guest: create the overlay volume, define the domain (its disk
      at the volume's path), start it, read its lease address (retried until one is there); with
      "wait": "all", every guest is started first and the leases are then polled in turn
down: per guest: destroy, undefine, delete the volume; then destroy + undefine the network

Prints {"client":"python","guests":N,"up_ns":T,"down_ns":T,"up_cpu_ns":C,"down_cpu_ns":C,"addresses":K}
(C: this process's CPU time, user + system), and "up_daemon_ns"/"down_daemon_ns" (libvirtd's CPU time
over the same spans, every thread, from /proc) when the environment names its pid in DAEMON_PID.
Exit 1 on a libvirt error.
"""
import json
import os
import sys
import time


def daemon_cpu_ns():
    """libvirtd's CPU time so far, ns, or None without DAEMON_PID."""
    pid = os.environ.get("DAEMON_PID")
    return None if not pid else daemon_of(pid)

import libvirt

from _daemon_cpu import daemon_cpu_ns as daemon_of


def main():
    uri, spec_file = sys.argv[1], sys.argv[2]
    with open(spec_file, encoding="utf-8") as f:
        spec = json.load(f)
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    lease = libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE
    wait_all = spec.get("wait", "each") == "all"

    t0, c0, d0 = time.perf_counter_ns(), time.process_time_ns(), daemon_cpu_ns()
    net = conn.networkDefineXML(spec["network_xml"])
    net.create()
    pool = conn.storagePoolLookupByName(spec["pool"])
    addresses = 0

    def has_address(dom):
        return any(a["type"] == libvirt.VIR_IP_ADDR_TYPE_IPV4
                   for i in dom.interfaceAddresses(lease).values() for a in (i["addrs"] or []))

    started = []
    for g in spec["guests"]:
        vol = pool.createXML(g["volume_xml"], 0)
        dom = conn.defineXML(g["domain_xml"].replace("@VOLUME_PATH@", vol.path()))
        dom.create()
        if wait_all:
            started.append(dom)
            continue
        while not has_address(dom):
            time.sleep(0.05)
        addresses += 1
    while started:  # "wait": "all": every guest started first, then the leases polled in turn
        waiting = []
        for dom in started:
            if has_address(dom):
                addresses += 1
            else:
                waiting.append(dom)
        started = waiting
        if started:
            time.sleep(0.05)
    up, up_cpu, d1 = time.perf_counter_ns() - t0, time.process_time_ns() - c0, daemon_cpu_ns()

    t0, c0 = time.perf_counter_ns(), time.process_time_ns()
    for g in spec["guests"]:
        dom = conn.lookupByName(g["name"])
        dom.destroy()
        dom.undefine()
        pool.storageVolLookupByName(g["volume"]).delete(0)
    net = conn.networkLookupByName(spec["network"])
    net.destroy()
    net.undefine()
    down, down_cpu, d2 = time.perf_counter_ns() - t0, time.process_time_ns() - c0, daemon_cpu_ns()
    conn.close()
    result = {"client": "python", "guests": len(spec["guests"]), "up_ns": up, "down_ns": down,
              "up_cpu_ns": up_cpu, "down_cpu_ns": down_cpu, "addresses": addresses}
    if d0 is not None:
        result.update(up_daemon_ns=d1 - d0, down_daemon_ns=d2 - d1)
    print(json.dumps(result))


if __name__ == "__main__":
    try:
        main()
    except libvirt.libvirtError as e:
        print(f"libvirt: {e}", file=sys.stderr)
        sys.exit(1)
