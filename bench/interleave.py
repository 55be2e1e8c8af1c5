#!/usr/bin/env python3
"""Interleaved one-shot timing: each round runs every command once (the order rotated per round), so a
change of the machine's load hits all contenders alike; per command the median wall time and the child's
CPU (user + system from wait4's rusage), which load disturbs less. hyperfine runs one command's rounds
after the other's. docs/benchmarks.md, "Session h11-oneshot" ("ilv" rows).

  python3 bench/interleave.py ROUNDS WARMUP OUT.json 'CMD ARGS...' 'CMD ARGS...' ...

A command is split with shlex and run without a shell; its stdout and stderr go to /dev/null.
"""
import json
import os
import shlex
import statistics
import sys
import time


def run(argv: list[str], devnull: int) -> tuple[float, float, float, int]:
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(argv[0], argv)
    _, status, usage = os.wait4(pid, 0)
    wall = (time.perf_counter() - started) * 1000
    return wall, usage.ru_utime * 1000, usage.ru_stime * 1000, os.waitstatus_to_exitcode(status)


def main() -> None:
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    rounds, warmup, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    commands = sys.argv[4:]
    results = {c: {"wall": [], "user": [], "sys": [], "exit": None} for c in commands}
    devnull = os.open(os.devnull, os.O_WRONLY)
    load = [open("/proc/loadavg").read().split()[:3]]
    for r in range(warmup + rounds):
        k = r % len(commands)
        for command in commands[k:] + commands[:k]:
            wall, user, system, code = run(shlex.split(command), devnull)
            if r >= warmup:
                results[command]["wall"].append(wall)
                results[command]["user"].append(user)
                results[command]["sys"].append(system)
                results[command]["exit"] = code
    load.append(open("/proc/loadavg").read().split()[:3])
    print(f"load average before {' '.join(load[0])}, after {' '.join(load[1])}; {rounds} rounds")
    for command, r in results.items():
        cpu = [u + s for u, s in zip(r["user"], r["sys"])]
        print(f"{command}\n  wall median {statistics.median(r['wall']):.1f} ms (min {min(r['wall']):.1f}, "
              f"max {max(r['wall']):.1f}); CPU median {statistics.median(cpu):.1f} ms (user "
              f"{statistics.median(r['user']):.1f}, sys {statistics.median(r['sys']):.1f}); exit {r['exit']}")
    with open(out, "w") as f:
        json.dump({"load": load, "results": results}, f)


if __name__ == "__main__":
    main()
