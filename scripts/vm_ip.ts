#!/usr/bin/env -S deno run --allow-ffi --allow-env=DENO_LIBVIRT_PATH,LIBVIRT_DEFAULT_URI
/**
 * Prints the IP addresses of virtual machines, from every source libvirt and the host offer
 * (DHCP leases, the guest agent, the neighbour table, the static plan), merged per NIC with a
 * confidence, for one host or many, in one process.
 *
 *   deno run --allow-ffi https://.../scripts/vm_ip.ts web1 db1 --uri qemu:///system
 *   deno run --allow-ffi https://.../scripts/vm_ip.ts --all --uri qemu+ssh://h1/system --uri qemu+ssh://h2/system --wait --timeout 120 --json
 *
 * Exit codes: 0 every domain has an address; 1 some have none (in time, with --wait); 2 usage or
 * connection error (unknown domain, unreachable host).
 *
 * The code is scripts/_vm_ip.ts; this file loads its bundle (scripts/_generated/vm_ip.js, written by
 * `deno task gen`): one module to load instead of ~70, the most of a one-shot query's start.
 *
 * @module
 */
// libvirt's dynamic linking (10-14 ms) starts before the bundle loads (~4 ms), from a module that
// imports nothing: the two then overlap (docs/benchmarks.md, "Session h11-vmip3").
import { linkLibvirtInBackground } from "../lib/ffi/_preload.ts";

const help = Deno.args.includes("--help") || Deno.args.includes("-h");
const linked = help ? Promise.resolve() : linkLibvirtInBackground();
const { main } = await import("./_generated/vm_ip.js");
await main(linked);
