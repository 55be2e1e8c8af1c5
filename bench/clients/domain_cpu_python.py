#!/usr/bin/python3
"""libvirt-python side of bench/perop_cpu.ts: CPU per call of one operation, split by thread.

    /usr/bin/python3 bench/clients/domain_cpu_python.py URI OP [N [WARM]]

OP and the domain ("test") as in perop_cpu.ts: WARM untimed calls (default 100), then N timed ones
(default 300). Prints {"op", "client": "python", "main_us", "other_us", "wall_us"} per call: the
calling thread's CPU (time.thread_time_ns), every other thread's (/proc/self/task/*/schedstat), wall.
"""
import json
import os
import sys
import time

import libvirt


def main():
    uri, op = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    warm = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    dom = conn.lookupByName("test")
    xml = ("<domain type='test'><name>perop-cpu-x</name><memory unit='MiB'>64</memory>"
           "<os><type>hvm</type></os></domain>")
    stopped = conn.defineXML(xml.replace("perop-cpu-x", "perop-cpu-stopped")) if op == "start_destroy" else None
    lease = libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE
    calls = {
        "state": lambda: dom.state(),
        "lookup_info": lambda: conn.lookupByName("test").info(),
        "define_undefine": lambda: conn.defineXML(xml).undefine(),
        "start_destroy": lambda: (stopped.create(), stopped.destroy()),
        "addresses": lambda: dom.interfaceAddresses(lease),
        "stats_each": lambda: conn.domainListGetStats([dom]),
    }
    call = calls[op]
    for _ in range(warm):
        call()
    other0 = other_threads_ns()
    main0 = time.thread_time_ns()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        call()
    t1 = time.perf_counter_ns()
    main1 = time.thread_time_ns()
    other1 = other_threads_ns()
    if stopped is not None:
        stopped.undefine()
    conn.close()
    per_call = lambda ns: round(ns / n / 1e3, 2)
    print(json.dumps({"op": op, "client": "python", "main_us": per_call(main1 - main0),
                      "other_us": per_call(other1 - other0), "wall_us": per_call(t1 - t0)}))


def other_threads_ns():
    total = 0
    for task in os.listdir("/proc/self/task"):
        if task == str(os.getpid()):
            continue
        try:
            with open(f"/proc/self/task/{task}/schedstat", encoding="ascii") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


if __name__ == "__main__":
    main()
