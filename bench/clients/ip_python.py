#!/usr/bin/python3
"""libvirt-python side of bench/ip_compare.ts: the lease addresses of every named domain, in one
process over one connection. Prints {"client":"python","domains":N,"total_ns":T,"per_domain_ns":T/N}.

    /usr/bin/python3 bench/clients/ip_python.py URI NAMES_FILE
"""
import json
import sys
import time

import libvirt


def main():
    uri, names_file = sys.argv[1], sys.argv[2]
    names = [n.strip() for n in open(names_file, encoding="utf-8") if n.strip()]
    libvirt.registerErrorHandler(lambda *a: None, None)
    start = time.perf_counter_ns()
    conn = libvirt.open(uri)
    found = 0
    for name in names:
        dom = conn.lookupByName(name)
        ifaces = dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0)
        found += sum(len(i["addrs"] or []) > 0 for i in ifaces.values())
    conn.close()
    total = time.perf_counter_ns() - start
    print(json.dumps({"client": "python", "domains": len(names), "found": found, "total_ns": total,
                      "per_domain_ns": total / len(names)}))


if __name__ == "__main__":
    main()
