#!/usr/bin/python3
"""libvirt-python side of bench/domain_compare.ts, over one connection:

    /usr/bin/python3 bench/clients/domain_python.py URI NAMES_FILE OP [PASSES [WARMUP]]

OP: lookup_info (lookupByName + info() per name), state (state() of each), define_undefine
(defineXML + undefine of a fresh domain per name), start_destroy (create + destroy each domain),
addresses (interfaceAddresses(LEASE) of each), stats_bulk (getAllDomainStats once), stats_each
(domainListGetStats per domain). WARMUP (default 1) untimed passes, then PASSES (default 1) timed
passes over the names. Prints {"client":"python","op":OP,"domains":N,"passes":P,"total_ns":T,"per_domain_ns":T/N,
"passes_ns":[...],"cpu_ns_per_domain":C}: T is the fastest pass (the one least disturbed by other load
on the machine), C the process's CPU time (user + system, every thread) over all timed passes, per
domain: what the client itself spends, whatever the daemon and the scheduler do.
"""
import json
import resource
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
    passes = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    names = [n.strip() for n in open(names_file, encoding="utf-8") if n.strip()]
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    doms = [conn.lookupByName(n) for n in names]
    if op == "addresses":  # the test driver answers for running domains only
        for d in doms:
            d.create()
    for _ in range(warmup):  # untimed: every contender is timed warm
        run(conn, op, names, doms)
    times = []
    cpu0 = cpu_ns()
    for _ in range(passes):
        start = time.perf_counter_ns()
        run(conn, op, names, doms)
        times.append(time.perf_counter_ns() - start)
    cpu = cpu_ns() - cpu0
    total = min(times)
    if op == "addresses":
        for d in doms:
            d.destroy()
    conn.close()
    print(json.dumps({"client": "python", "op": op, "domains": len(names), "passes": passes,
                      "total_ns": total, "per_domain_ns": total / len(names), "passes_ns": times,
                      "cpu_ns_per_domain": cpu / (passes * len(names))}))


def cpu_ns():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


if __name__ == "__main__":
    main()
