#!/usr/bin/python3
"""libvirt-python side of bench/domain_compare.ts, over one connection:

    /usr/bin/python3 bench/clients/domain_python.py URI NAMES_FILE OP

OP: lookup_info (lookupByName + info() per name), state (state() of each), define_undefine
(defineXML + undefine of a fresh domain per name), start_destroy (create + destroy each domain),
addresses (interfaceAddresses(LEASE) of each), stats_bulk (getAllDomainStats once), stats_each
(domainListGetStats per domain). Prints
{"client":"python","op":OP,"domains":N,"total_ns":T,"per_domain_ns":T/N}.
"""
import json
import sys
import time

import libvirt


def run(conn, op, names, doms):
    if op == "lookup_info":
        for n in names:
            conn.lookupByName(n).info()
    elif op == "define_undefine":
        for n in names:
            conn.defineXML(f"<domain type='test'><name>{n}-x</name><memory unit='MiB'>64</memory>"
                           "<os><type>hvm</type></os></domain>").undefine()
    elif op == "addresses":
        lease = libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE
        for d in doms:
            d.interfaceAddresses(lease)
    elif op == "start_destroy":
        for d in doms:
            d.create()
            d.destroy()
    elif op == "state":
        for d in doms:
            d.state()
    elif op == "stats_bulk":
        conn.getAllDomainStats()
    elif op == "stats_each":
        for d in doms:
            conn.domainListGetStats([d])
    else:
        print(f"unknown op {op}", file=sys.stderr)
        sys.exit(2)


def main():
    uri, names_file, op = sys.argv[1], sys.argv[2], sys.argv[3]
    names = [n.strip() for n in open(names_file, encoding="utf-8") if n.strip()]
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    doms = [conn.lookupByName(n) for n in names]
    if op == "addresses":  # the test driver answers for running domains only
        for d in doms:
            d.create()
    run(conn, op, names, doms)  # one untimed pass: every contender is timed warm
    start = time.perf_counter_ns()
    run(conn, op, names, doms)
    total = time.perf_counter_ns() - start
    if op == "addresses":
        for d in doms:
            d.destroy()
    conn.close()
    print(json.dumps({"client": "python", "op": op, "domains": len(names), "total_ns": total,
                      "per_domain_ns": total / len(names)}))


if __name__ == "__main__":
    main()
