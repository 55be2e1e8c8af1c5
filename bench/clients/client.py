#!/usr/bin/python3
"""libvirt-python reference client for the deno_libvirt comparison benchmark.

Run with Debian's interpreter (python3-libvirt lives there, not in pyenv):

    /usr/bin/python3 bench/clients/client.py --uri URI --op OP --iterations N
        [--warmup W] [--concurrency 1] [--names-file FILE]

OP is one of: open_close, lookup_info, list_all, lookup_info_many.
Prints exactly one JSON line on success (exit 0). On a libvirt failure the
libvirt error message goes to stderr and the exit code is 1. Usage errors
exit 2. See bench/clients/README.md for the full contract.
"""
import argparse
import json
import sys
import time

import libvirt

OPS = ("open_close", "lookup_info", "list_all", "lookup_info_many")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="client.py")
    p.add_argument("--uri", required=True)
    p.add_argument("--op", required=True, choices=OPS)
    p.add_argument("--iterations", required=True, type=int)
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--names-file", default=None)
    a = p.parse_args(argv)
    if a.iterations < 1:
        p.error("--iterations must be >= 1")
    if a.warmup is not None and a.warmup < 0:
        p.error("--warmup must be >= 0")
    if a.concurrency != 1:
        p.error("only --concurrency 1 is supported")
    if a.op == "lookup_info_many" and not a.names_file:
        p.error("--op lookup_info_many needs --names-file")
    if a.warmup is None:
        a.warmup = max(1, a.iterations // 10)
    return a


def load_names(path):
    try:
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
    except OSError as e:
        print(f"cannot open names file '{path}': {e}", file=sys.stderr)
        sys.exit(2)
    if not names:
        print("client.py: names file contains no names", file=sys.stderr)
        sys.exit(2)
    return names


def make_step(op, uri, conn, names, state):
    """Return a zero-argument callable doing one iteration of `op`.

    Python objects wrapping virDomainPtr are released (virDomainFree) when
    their refcount drops to zero, i.e. at the end of each call below, so the
    per-iteration work matches the C client.
    """
    if op == "open_close":
        def step():
            libvirt.open(uri).close()
    elif op == "lookup_info":
        lookup = conn.lookupByName

        def step():
            lookup("test").info()
    elif op == "lookup_info_many":
        lookup = conn.lookupByName
        n = len(names)

        def step():
            i = state["cursor"]
            state["cursor"] = i + 1
            lookup(names[i % n]).info()
    elif op == "list_all":
        list_all = conn.listAllDomains

        def step():
            doms = list_all(0)
            state["domains"] = len(doms)
            del doms
    else:  # pragma: no cover - argparse restricts choices
        raise ValueError(op)
    return step


def main(argv):
    a = parse_args(argv)
    names = load_names(a.names_file) if a.op == "lookup_info_many" else None

    libvirt.registerErrorHandler(lambda *_: None, None)

    conn = None
    try:
        if a.op != "open_close":
            conn = libvirt.open(a.uri)
        state = {"cursor": 0, "domains": -1}
        step = make_step(a.op, a.uri, conn, names, state)

        for _ in range(a.warmup):
            step()

        clock = time.perf_counter_ns
        t0 = clock()
        for _ in range(a.iterations):
            step()
        total = clock() - t0

        if conn is not None:
            conn.close()
            conn = None
    except libvirt.libvirtError as e:
        print(e.get_error_message() or str(e), file=sys.stderr)
        return 1

    out = {
        "client": "python",
        "op": a.op,
        "uri": a.uri,
        "iterations": a.iterations,
        "total_ns": total,
        "per_op_ns": round(total / a.iterations, 3),
    }
    if a.op == "list_all":
        out["domains"] = state["domains"]
    sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
