#!/usr/bin/python3
"""libvirt-python side of bench/domain_compare.ts, over one connection:

    /usr/bin/python3 bench/clients/domain_python.py URI NAMES_FILE OP [PASSES [WARMUP]]

OP: lookup_info (lookupByName + info() per name), state (state() of each), define_undefine
(defineXML + undefine of a fresh domain per name), start_destroy (create + destroy each domain),
addresses (interfaceAddresses(LEASE) of each), stats_bulk (getAllDomainStats once), stats_each
(domainListGetStats per domain). WARMUP (default 1) untimed passes, then PASSES (default 1) timed
passes over the names. Prints {"client":"python","op":OP,"domains":N,"passes":P,"total_ns":T,"per_domain_ns":T/N,
"passes_ns":[...],"cpu_ns_per_domain":C,"main_ns_per_domain":M,"other_ns_per_domain":O}: T is the
fastest pass (the one least disturbed by other load on the machine), C the process's CPU time (user +
system, every thread) over all timed passes, per domain: what the client itself spends, whatever the
daemon and the scheduler do; M and O the same split by thread (/proc/self/task schedstat: the main
thread, every other); "median_lap_ns": the median over the timed passes of one domain's time (for
stats_bulk: the call's, per domain), which a moment of other load moves less.
"""
import json
import os
import resource
import statistics
import sys
import time

import libvirt


def run(conn, op, names, doms, laps=None):
    """One pass; with `laps`, each domain's time (ns) is appended to it."""
    clock = time.perf_counter_ns
    last = clock()

    def tick():
        nonlocal last
        if laps is not None:
            now = clock()
            laps.append(now - last)
            last = now

    if op == "lookup_info":
        for n in names:
            conn.lookupByName(n).info()
            tick()
    elif op == "define_undefine":
        for n in names:
            conn.defineXML(f"<domain type='test'><name>{n}-x</name><memory unit='MiB'>64</memory>"
                           "<os><type>hvm</type></os></domain>").undefine()
            tick()
    elif op == "addresses":
        lease = libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE
        for d in doms:
            d.interfaceAddresses(lease)
            tick()
    elif op == "start_destroy":
        for d in doms:
            d.create()
            d.destroy()
            tick()
    elif op == "state":
        for d in doms:
            d.state()
            tick()
    elif op == "stats_bulk":
        conn.getAllDomainStats()
        tick()
    elif op == "stats_each":
        for d in doms:
            conn.domainListGetStats([d])
            tick()
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
    laps = []
    cpu0 = cpu_ns()
    threads0 = thread_cpu_ns()
    for _ in range(passes):
        start = time.perf_counter_ns()
        run(conn, op, names, doms, laps)
        times.append(time.perf_counter_ns() - start)
    cpu = cpu_ns() - cpu0
    threads1 = thread_cpu_ns()
    total = min(times)
    if op == "addresses":
        for d in doms:
            d.destroy()
    conn.close()
    print(json.dumps({"client": "python", "op": op, "domains": len(names), "passes": passes,
                      "total_ns": total, "per_domain_ns": total / len(names), "passes_ns": times,
                      "cpu_ns_per_domain": cpu / (passes * len(names)),
                      "main_ns_per_domain": (threads1[0] - threads0[0]) / (passes * len(names)),
                      "other_ns_per_domain": (threads1[1] - threads0[1]) / (passes * len(names)),
                      "median_lap_ns": statistics.median(laps) / (len(names) if op == "stats_bulk" else 1)}))


def cpu_ns():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


def thread_cpu_ns():
    """(main thread, every other thread): CPU time so far (ns), from /proc/self/task/*/schedstat."""
    main, other = 0, 0
    pid = str(os.getpid())
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue  # the thread ended meanwhile
        if tid == pid:
            main += ns
        else:
            other += ns
    return main, other


if __name__ == "__main__":
    main()
