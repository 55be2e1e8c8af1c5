#!/usr/bin/python3
"""libvirtd's CPU per operation, next to the client's and the wall time: what a range's calls cost the
daemon itself, which no client can save (bench/range_compare.ts's libvirtd column is the sum).

    /usr/bin/python3 bench/clients/daemon_ops.py [URI] [COUNT]    (default test+unix:///default, 500)

Run it where the daemon runs (inside the lab: lab.sh exec); the daemon's pid comes from
/run/libvirtd.pid and its CPU from /proc (every thread's schedstat). One connection, sequential: per
guest a qcow2 volume in default-pool, a domain with that disk and a NIC on a network made for the run,
then start, the lease read, destroy, undefine and the volume's delete; each phase over every guest
before the next. Rows that need a handle by name include that lookup: the "lookup" row is its share.
Everything made is removed; a libvirt error exits 1.
"""
import sys
import time
import uuid

import libvirt

from _daemon_cpu import daemon_cpu_ns


def main():
    uri = sys.argv[1] if len(sys.argv) > 1 else "test+unix:///default"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    with open("/run/libvirtd.pid", encoding="ascii") as f:
        pid = f.read().strip()
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    tag = "dops" + uuid.uuid4().hex[:6]
    net = conn.networkDefineXML(
        f"<network><name>{tag}-lan</name><ip address='10.89.0.1' netmask='255.255.0.0'>"
        "<dhcp><range start='10.89.1.1' end='10.89.250.250'/></dhcp></ip></network>")
    net.create()
    pool = conn.storagePoolLookupByName("default-pool")
    names = [f"{tag}-{i}" for i in range(count)]
    rows = []

    def phase(label, fn):
        d0, c0, t0 = daemon_cpu_ns(pid), time.process_time_ns(), time.perf_counter_ns()
        for name in names:
            fn(name)
        t1, c1, d1 = time.perf_counter_ns(), time.process_time_ns(), daemon_cpu_ns(pid)
        rows.append((label, (d1 - d0) / count / 1e3, (t1 - t0) / count / 1e3, (c1 - c0) / count / 1e3))

    def domain_xml(name):
        return (f"<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                "<os><type arch='x86_64'>hvm</type></os><devices>"
                f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                f"<source file='/default-pool/{name}.qcow2'/><target dev='vda' bus='virtio'/></disk>"
                f"<interface type='network'><source network='{tag}-lan'/><model type='virtio'/></interface>"
                "</devices></domain>")

    lease = libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE
    try:
        phase("no-op RPC (getLibVersion)", lambda n: conn.getLibVersion())
        phase("volume create", lambda n: pool.createXML(
            f"<volume><name>{n}.qcow2</name><capacity unit='MiB'>64</capacity>"
            "<target><format type='qcow2'/></target></volume>", 0))
        phase("define", lambda n: conn.defineXML(domain_xml(n)))
        phase("lookup", lambda n: conn.lookupByName(n))
        phase("lookup + start", lambda n: conn.lookupByName(n).create())
        phase("lookup + lease read", lambda n: conn.lookupByName(n).interfaceAddresses(lease))
        phase("lookup + destroy", lambda n: conn.lookupByName(n).destroy())
        phase("lookup + undefine", lambda n: conn.lookupByName(n).undefine())
        phase("volume lookup + delete", lambda n: pool.storageVolLookupByName(f"{n}.qcow2").delete(0))
    finally:
        for n in names:  # whatever a failed phase left
            try:
                d = conn.lookupByName(n)
                if d.isActive():
                    d.destroy()
                d.undefine()
            except libvirt.libvirtError:
                pass
            try:
                pool.storageVolLookupByName(f"{n}.qcow2").delete(0)
            except libvirt.libvirtError:
                pass
        net.destroy()
        net.undefine()
        conn.close()
    print(f"{count} guests over {uri}, per operation (µs):\n")
    print("| operation | libvirtd CPU | wall | client CPU |")
    print("|---|---:|---:|---:|")
    for label, daemon, wall, client in rows:
        print(f"| {label} | {daemon:.1f} | {wall:.1f} | {client:.1f} |")


if __name__ == "__main__":
    try:
        main()
    except libvirt.libvirtError as e:
        print(f"libvirt: {e}", file=sys.stderr)
        sys.exit(1)
