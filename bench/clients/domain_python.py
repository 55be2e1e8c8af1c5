#!/usr/bin/python3
"""libvirt-python side of bench/domain_compare.ts, over one connection:

    /usr/bin/python3 bench/clients/domain_python.py URI NAMES_FILE OP

OP: start_destroy (create + destroy each domain), state (state() of each), stats_bulk
(getAllDomainStats once), stats_each (domainListGetStats per domain). Prints
{"client":"python","op":OP,"domains":N,"total_ns":T,"per_domain_ns":T/N}.
"""
import json
import sys
import time

import libvirt


def main():
    uri, names_file, op = sys.argv[1], sys.argv[2], sys.argv[3]
    names = [n.strip() for n in open(names_file, encoding="utf-8") if n.strip()]
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    doms = [conn.lookupByName(n) for n in names]
    start = time.perf_counter_ns()
    if op == "start_destroy":
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
    total = time.perf_counter_ns() - start
    conn.close()
    print(json.dumps({"client": "python", "op": op, "domains": len(names), "total_ns": total,
                      "per_domain_ns": total / len(names)}))


if __name__ == "__main__":
    main()
