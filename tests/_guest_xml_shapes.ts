// Ranges of several shapes and the guestXml calls made over them, shared by tests/range_guest_xml_test.ts
// and the fixture it compares with (tests/fixtures/range_guest_xml.json, written by the code before
// guestXml's per-kind template, so that the template and the builder both stay byte-identical to it).
// Every range has a fixed name: the fixture must not depend on the run.
import { cyrisToRange } from "../lib/range/cyris.ts";
import { type ExpandedGuest, type Range, validateRange } from "../lib/range/description.ts";
import { rangeDomainUuid } from "../lib/range/_libvirt.ts";

/** One guestXml call: the guest (possibly changed after validation), its volume path and UUID. */
export interface GuestXmlCall {
  guest: ExpandedGuest;
  path: string;
  uuid?: string;
}

/** A named range and the calls made over it, in order. */
export interface GuestXmlShape {
  name: string;
  range: Range;
  calls: GuestXmlCall[];
}

const RECORD = "6695eb01-f6a4-4304-89aa-97f2502e193f";

/** Each guest of the range once, at `<prefix><volume>`, with the UUID up derives (or none). */
function everyGuest(range: Range, prefix: string, uuids = true): GuestXmlCall[] {
  return range.guests.map((g) => ({
    guest: g,
    path: `${prefix}${g.volume}`,
    ...(uuids ? { uuid: rangeDomainUuid(RECORD, g.name) } : {}),
  }));
}

const CYRIS = `
- host_settings:
  - id: host_1
    mgmt_addr: localhost
    account: cyuser
- guest_settings:
  - id: desktop
    basevm_host: host_1
    basevm_config_file: /home/cyuser/images/basevm_desktop.xml
    basevm_type: kvm
    tasks:
    - add_account:
      - account: daniel
        passwd: theAnswer
  - id: firewall
    basevm_host: host_1
    basevm_config_file: /home/cyuser/images/basevm_firewall.xml
    basevm_type: kvm
- clone_settings:
  - range_id: 125
    hosts:
    - host_id: host_1
      instance_number: 2
      guests:
      - guest_id: desktop
        number: 2
      - guest_id: firewall
        number: 1
      topology:
      - type: custom
        networks:
        - name: office
          members: desktop.eth0
          gateway: firewall.eth0
        - name: servers
          members: desktop.eth1, firewall.eth1
`;

/** The shapes; fresh objects on every call. */
export function guestXmlShapes(): GuestXmlShape[] {
  const many = severalKinds();
  return [
    ...oneKind(),
    {
      name: "several kinds, hosts, NICs, networks, images, kernel, firewall",
      range: many,
      calls: everyGuest(many, "/var/lib/libvirt/images/pool & 'x' <y>/"),
    },
    { name: "guests changed after validation", range: many, calls: changedGuests(many) },
    cyrisShape(),
    edgeNames(),
  ];
}

function oneKind(): GuestXmlShape[] {
  const shapes: GuestXmlShape[] = [];
  // one kind with a count, on the test driver, with and without UUIDs
  const one = validateRange({
    name: "gx1",
    hosts: [{ id: "local", uri: "test:///default" }],
    storage: { pool: "default-pool" },
    networks: [{ name: "gx1-lan", mode: "isolated", subnet: "10.61.0.0/24" }],
    guests: [{ id: "web", memory: 64, count: 12, nics: [{ network: "gx1-lan" }] }],
  });
  shapes.push({ name: "one kind, count 12", range: one, calls: everyGuest(one, "/default-pool/") });
  shapes.push({
    name: "one kind, no UUID",
    range: one,
    calls: everyGuest(one, "/default-pool/", false),
  });
  return shapes;
}

function severalKinds(): Range {
  // several kinds on kvm hosts: agent, kernel boot (values needing escaping), base images (overlays),
  // several NICs on several networks, planned addresses, explicit MACs, placement over two hosts of
  // different types (one kind's instances alternate test and kvm), a firewall protecting one kind
  return validateRange({
    name: "gx2",
    hosts: [
      { id: "h1", uri: "qemu:///system" },
      { id: "h.2", uri: "test:///default" },
    ],
    storage: { pool: "default" },
    baseImages: [
      { id: "deb", path: "/var/lib/libvirt/images/debian 12 <base>.qcow2" },
      { id: "raw", path: "/images/raw&'.img", format: "raw" },
    ],
    networks: [
      {
        name: "gx2-red",
        mode: "isolated",
        subnet: "10.62.1.0/24",
        dhcp: { start: "10.62.1.100", end: "10.62.1.200" },
      },
      { name: "gx2-dmz", mode: "nat", subnet: "10.62.2.0/24" },
      { name: "gx2-blue", mode: "isolated", subnet: "10.62.3.0/24" },
    ],
    guests: [
      {
        id: "attacker",
        memory: 256,
        vcpus: 2,
        count: 3,
        agent: true,
        baseImage: "deb",
        nics: [{ network: "gx2-red", address: "10.62.1.10", mac: "52:54:00:AA:00:10" }],
      },
      {
        id: "web",
        memory: 512,
        count: 5,
        hosts: ["h1", "h.2"],
        baseImage: "raw",
        nics: [
          { network: "gx2-dmz", address: "10.62.2.20" },
          { network: "gx2-red" },
          { network: "gx2-blue", address: "10.62.3.30", mac: "52:54:00:bb:00:f0" },
        ],
      },
      {
        id: "kern",
        memory: 128,
        count: 2,
        type: "qemu",
        kernel: {
          kernel: "/boot/vmlinuz-6.1 & <x>",
          initrd: "/boot/initrd'.img",
          cmdline: `console=ttyS0 root=/dev/vda1 quiet "a<b" & 'c'`,
        },
        nics: [{ network: "gx2-blue" }, { network: "gx2-blue" }],
      },
      { id: "lonely", memory: 96, count: 2 },
    ],
    firewall: [{ from: "gx2-red", to: "web", allow: ["tcp/22", "tcp/80"] }],
  });
}

function changedGuests(many: Range): GuestXmlCall[] {
  // guests changed after validation (the escaping tests do this): a planned address needing
  // escaping, an upper-case MAC, an empty planned address, paths needing escaping; interleaved with
  // unchanged guests of the same kind
  const changed: GuestXmlCall[] = [];
  many.guests.forEach((g, i) => {
    const copy = structuredClone(g);
    if (copy.nics[0]) {
      copy.nics[0].address = copy.nics[0].address ? `${copy.nics[0].address}'/><evil/><x y='` : "";
      copy.nics[0].mac = copy.nics[0].mac.toUpperCase();
    }
    changed.push({
      guest: copy,
      path: `/p/${i}/"q" & <r>\t\n.qcow2`,
      uuid: rangeDomainUuid(RECORD, g.name).toUpperCase(),
    });
    changed.push({ guest: g, path: `/p/${i}.qcow2` });
  });
  return changed;
}

function cyrisShape(): GuestXmlShape {
  // a CyRIS description, translated and validated
  const { description } = cyrisToRange(CYRIS, {
    uris: { host_1: "test:///default" },
    pool: "default-pool",
    memoryMiB: 64,
  });
  const cyris = validateRange(description);
  return { name: "CyRIS import", range: cyris, calls: everyGuest(cyris, "/default-pool/") };
}

function edgeNames(): GuestXmlShape {
  // names at the edges: a range name with dots, underscores and digits, the longest guest names
  const edge = validateRange({
    name: "g_x3-9",
    hosts: [{ id: "local", uri: "test:///default" }],
    storage: { pool: "default-pool" },
    networks: [{ name: "g_x3-9-lan", mode: "isolated", subnet: "10.63.0.0/24" }],
    guests: [
      { id: "a".repeat(50), memory: 64, count: 3, nics: [{ network: "g_x3-9-lan", address: "10.63.0.250" }] },
      { id: "b_c.d", memory: 64, count: 2, nics: [{ network: "g_x3-9-lan" }] },
    ],
  });
  return { name: "names at the edges", range: edge, calls: everyGuest(edge, "/default-pool/") };
}
