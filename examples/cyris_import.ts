#!/usr/bin/env -S deno run --allow-ffi
/**
 * Moving from CyRIS: translate a CyRIS range description (inline here: base images with tasks,
 * `clone_settings` with `instance_number: 2`, a custom topology of two networks) with `cyrisToRange`,
 * print the notes on what did not translate one to one and the resulting range description (YAML),
 * show what a typo in the CyRIS file gives (an error at the CyRIS file's own line and column), then
 * bring the translated range up and down on libvirt's in-process test hypervisor (`test:///default`),
 * where the guests' tasks are skipped with the reason (the test driver has no guest agent).
 *
 *   deno run --allow-ffi examples/cyris_import.ts
 *
 * Permissions: `--allow-ffi` only (the CyRIS text is inline; to read a file, add `--allow-read` and
 * pass `await Deno.readTextFile(path)` instead).
 *
 * Prints `notes (N):` with one line each, `translated range description:` with the YAML, `guests:` with
 * the 6 guest names, `strict import: ...` with the typo's `line L, column C`, `up: ...`, one
 * `task ... skipped: ...` line per guest task, and `down: N things removed`. Exit code 0; 1 on failure.
 *
 * @module
 */
import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
import {
  cyrisToRange,
  downRange,
  parseRangeDescription,
  RangeDescriptionError,
  upRange,
} from "@deno-libvirt/deno-libvirt/range";

// A CyRIS description, after CyRIS's own examples: one host, two base images (the desktop with tasks),
// two instances of the range, each with two desktops and a firewall on two networks.
const CYRIS = `
- host_settings:
  - id: host_1
    mgmt_addr: localhost
    virbr_addr: 192.168.122.1
    account: cyuser

- guest_settings:
  - id: desktop
    basevm_host: host_1
    basevm_config_file: /home/cyuser/images/basevm_desktop.xml
    basevm_type: kvm
    basevm_os_type: ubuntu_20
    tasks:
    - add_account:
      - account: daniel
        passwd: theAnswer
        full_name: Daniel Radcliffe
    - install_package:
      - package_manager: apt
        name: wireshark
    - execute_program:
      - program: /root/prepare.sh
        interpreter: bash
        args: --level 2
  - id: firewall
    basevm_host: host_1
    basevm_config_file: /home/cyuser/images/basevm_firewall.xml
    basevm_type: kvm

- clone_settings:
  - range_id: 42
    hosts:
    - host_id: host_1
      instance_number: 2
      guests:
      - guest_id: desktop
        number: 2
        entry_point: yes
      - guest_id: firewall
        number: 1
      topology:
      - type: custom
        networks:
        - name: office
          members: desktop.eth0, firewall.eth0
        - name: servers
          members: firewall.eth1
`;

// Where the CyRIS host runs and where the base images are, in libvirt's terms. Without `uris`,
// localhost becomes qemu:///system and other hosts qemu+ssh://account@mgmt_addr/system; without
// `images`, basevm_config_file with .xml replaced by .qcow2.
const options = {
  uris: { host_1: "test:///default" },
  images: { desktop: "/default-pool/desktop.qcow2", firewall: "/default-pool/firewall.qcow2" },
  pool: "default-pool",
  memoryMiB: 128,
  source: "cyris_range.yml", // how errors name the CyRIS file
};

// 1. Translate. `notes` name every field that was approximated or left out, with its value.
const { yaml, notes } = cyrisToRange(CYRIS, options);
console.log(`notes (${notes.length}):`);
for (const note of notes) console.log(`  - ${note}`);
console.log("translated range description:");
console.log(yaml);

// The translation is an ordinary range description: parse (and validate) it like any other.
const range = parseRangeDescription(yaml, "translated from cyris_range.yml");
console.log(`guests: ${range.guests.map((g) => g.name).join(", ")}`);

// 2. Strict: a typo in the CyRIS file is an error at the CyRIS file's line and column, with a
//    "did you mean". Every problem is found in one pass (`error.issues`).
try {
  cyrisToRange(CYRIS.replace("instance_number: 2", "instance_numbr: 2"), options);
  throw new Error("the typo was not reported");
} catch (error) {
  if (!(error instanceof RangeDescriptionError)) throw error;
  for (const issue of error.issues) {
    console.log(`strict import: line ${issue.line}, column ${issue.column}: ${issue.path}: ${issue.message}`);
  }
}

// 3. Up and down on the test driver. It keeps its state only while a connection to it is open: hold one.
await using pools = new PoolRegistry({ max: 4 });
const hold = await pools.get("test:///default").acquire();
let exitCode = 0;
try {
  const up = await upRange(range, pools, { consoles: false, signal: AbortSignal.timeout(60_000) });
  console.log(`up: ${up.created.length} things created, ${up.started.length} guests started`);
  // Tasks never vanish: on the test driver each is reported skipped, with why. On a real host the
  // guest agent carries them out (status "done", or "kept" when the guest was so already).
  for (const t of up.tasks) console.log(`  task ${t.guest} #${t.index} ${t.task} ${t.status}: ${t.reason}`);
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  const down = await downRange(range, pools);
  console.log(`down: ${down.removed.length} things removed`);
  hold.release();
}
Deno.exit(exitCode);
