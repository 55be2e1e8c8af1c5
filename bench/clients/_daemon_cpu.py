"""libvirtd's CPU time so far, for the python benchmark clients (bench/clients/range_python.py,
daemon_ops.py): the sum over the daemon's threads of /proc's schedstat (run time, ns), so that a client can
say what its calls cost the daemon, which no client can save. bench/range_compare.ts reads the same for
its own side."""
import os


def daemon_cpu_ns(pid):
    """The CPU time libvirtd (process `pid`) has run so far, ns, every thread."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as f:
            total += int(f.read().split()[0])
    return total
