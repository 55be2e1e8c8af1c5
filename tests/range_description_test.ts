// Range descriptions: table-driven broken descriptions, each with the exact field, line and reason,
// and nothing changed on the hypervisor; plus expansion (names, MACs, addresses, placement) and CyRIS.
// (Issue 9's hardening, the cases that used to be accepted, bounds and permissions, is in
// tests/range_description_strict_test.ts.)
import assert from "node:assert/strict";
import { Connection, listAllDomains, listAllNetworks } from "../mod.ts";
import { parseRangeDescription, RangeDescriptionError } from "../lib/range/description.ts";
import { cyrisToRange } from "../lib/range/cyris.ts";
import { base, refusal } from "./_range_base.ts";

/** [case, edit of the base text, expected field path, expected line, message pattern] */
const broken: [string, (t: string) => string, string, number | undefined, RegExp][] = [
  ["unknown host", (t) => t.replace("host: h1", "host: h9"), "guests[0].host", 25, /unknown host "h9"/],
  ["duplicate host id", (t) => t.replace("id: h2", "id: h1"), "hosts[1].id", 5, /duplicate host id "h1"/],
  [
    "duplicate network name",
    (t) => t.replace("name: lab-b", "name: lab-a"),
    "networks[1].name",
    14,
    /duplicate network name/,
  ],
  [
    "overlapping subnets",
    (t) => t.replace("10.2.0.0/24", "10.1.0.0/16"),
    "networks[1].subnet",
    16,
    /overlaps 10\.1\.0\.0\/24/,
  ],
  [
    "count 0",
    (t) => t.replace("count: 2", "count: 0"),
    "guests[0].count",
    24,
    /is 0: a guest needs count >= 1/,
  ],
  [
    "bad MAC",
    (t) => t.replace("{ network: lab-b }", '{ network: lab-b, mac: "52:54:00:zz:00:01" }'),
    "guests[0].nics[1].mac",
    28,
    /is not a MAC address/,
  ],
  [
    "multicast MAC",
    (t) => t.replace("{ network: lab-b }", '{ network: lab-b, mac: "01:54:00:00:00:01" }'),
    "guests[0].nics[1].mac",
    28,
    /multicast/,
  ],
  [
    "hostile guest id",
    (t) => t.replace("id: web", 'id: "web;rm -rf /"'),
    "guests[0].id",
    21,
    /is not a safe name/,
  ],
  [
    "name starting with a dot",
    (t) => t.replace("name: lab-b", "name: .hidden"),
    "networks[1].name",
    14,
    /not starting with "\."/,
  ],
  [
    "hostile range name",
    (t) => t.replace("name: lab\n", "name: ../etc\n"),
    "name",
    1,
    /range name "\.\.\/etc" is not safe/,
  ],
  [
    "planned address outside the subnet",
    (t) => t.replace("address: 10.1.0.10", "address: 10.9.0.10"),
    "guests[0].nics[0].address",
    27,
    /outside the subnet 10\.1\.0\.0\/24/,
  ],
  [
    "DHCP range outside the subnet",
    (t) => t.replace("end: 10.1.0.200", "end: 10.1.1.200"),
    "networks[0].dhcp.end",
    13,
    /10\.1\.1\.200 is outside the subnet/,
  ],
  [
    "missing required field",
    (t) => t.replace("    memory: 128\n", ""),
    "guests[0].memory",
    21,
    /is required \(missing\)/,
  ],
  [
    "unknown field (typo)",
    (t) => t.replace("memory: 128", "memroy: 128"),
    "guests[0].memroy",
    23,
    /unknown field: did you mean "memory"/,
  ],
  [
    "too little memory for QEMU",
    (t) =>
      t.replace('test:///default"\n  - id: h2', 'qemu:///system"\n  - id: h2').replace(
        "memory: 128",
        "memory: 64",
      ),
    "guests[0].memory",
    23,
    /64 MiB is below the 80 MiB/,
  ],
  [
    "unknown base image",
    (t) => t.replace("baseImage: deb", "baseImage: win"),
    "guests[0].baseImage",
    22,
    /unknown base image "win"/,
  ],
  [
    "unknown network on a NIC",
    (t) => t.replace("{ network: lab-b }", "{ network: lab-c }"),
    "guests[0].nics[1].network",
    28,
    /unknown network "lab-c"/,
  ],
  [
    "two guests with the same planned address",
    (t) => t + "  - id: db\n    memory: 128\n    nics: [{ network: lab-a, address: 10.1.0.11 }]\n",
    "guests[1].nics[0].address",
    31,
    /planned address 10\.1\.0\.11 of lab-db-1 is already planned for lab-web-2/,
  ],
  [
    "MAC collision after expansion",
    (t) =>
      t.replace("{ network: lab-b }", '{ network: lab-b, mac: "52:54:00:00:00:01" }') +
      '  - id: db\n    memory: 128\n    nics: [{ network: lab-b, mac: "52:54:00:00:00:02" }]\n',
    "guests[1].nics[0].mac",
    31,
    /MAC 52:54:00:00:00:02 of lab-db-1 is also the MAC of lab-web-2/,
  ],
  ["not YAML", (t) => t.replace("count: 2", "count: [2"), "", undefined, /not valid YAML/],
  [
    "subnet with host bits",
    (t) => t.replace("10.2.0.0/24", "10.2.0.5/24"),
    "networks[1].subnet",
    16,
    /host bits set/,
  ],
];

Deno.test("parseRangeDescription: the base description is valid and expands", () => {
  const range = parseRangeDescription(base);
  assert.deepEqual(range.guests.map((g) => g.name), ["lab-web-1", "lab-web-2"]);
  assert.deepEqual(range.guests.map((g) => g.nics[0].address), ["10.1.0.10", "10.1.0.11"]);
  assert.equal(range.guests[0].volume, "lab.web-1.qcow2");
  const macs = range.guests.flatMap((g) => g.nics.map((n) => n.mac));
  assert.equal(new Set(macs).size, 4);
  for (const mac of macs) assert.match(mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
  // deterministic: the same description gives the same MACs
  assert.deepEqual(parseRangeDescription(base).guests.flatMap((g) => g.nics.map((n) => n.mac)), macs);
});

Deno.test("parseRangeDescription: JSON descriptions work and point at lines too", () => {
  const json = JSON.stringify(
    {
      name: "j",
      hosts: [{ id: "h", uri: "test:///default" }],
      storage: { pool: "default-pool" },
      guests: [{ id: "g", memory: 64, count: 0 }],
    },
    null,
    2,
  );
  let error: unknown;
  try {
    parseRangeDescription(json, "j.json");
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof RangeDescriptionError);
  const issue = error.issues[0];
  assert.equal(issue.path, "guests[0].count");
  assert.equal(issue.line, 16);
});

Deno.test("parseRangeDescription: broken descriptions give the field, the line and the reason, and change nothing", async () => {
  await using conn = await Connection.open("test:///default");
  const names = async () => {
    const domains = await listAllDomains(conn);
    const networks = await listAllNetworks(conn);
    const result = [...domains.map((d) => d.name), ...networks.map((n) => n.name)].sort();
    for (const h of [...domains, ...networks]) h.free();
    return result;
  };
  const before = await names();
  assert.ok(broken.length >= 15);
  for (const [what, edit, path, line, pattern] of broken) {
    const { error } = refusal(what, edit(base), path, line, pattern);
    assert.match(error.message, /^Cannot use range description "lab\.yaml": line \d+/, what);
  }
  assert.deepEqual(await names(), before);
});

Deno.test("parseRangeDescription: hosts spread instances round-robin", () => {
  const range = parseRangeDescription(base.replace("host: h1", "hosts: [h1, h2]"));
  assert.deepEqual(range.guests.map((g) => g.hostId), ["h1", "h2"]);
  assert.deepEqual([...range.networksByHost.keys()], ["h1", "h2"]);
});

Deno.test("cyrisToRange: translates clone_settings (hosts, guests with number, topology members)", () => {
  const cyris = `
- host_settings:
  - id: host_1
    mgmt_addr: localhost
    virbr_addr: 192.168.122.1
    account: trainer
- guest_settings:
  - id: desktop
    basevm_host: host_1
    basevm_config_file: /home/trainer/images/desktop.xml
    basevm_type: kvm
  - id: webserver
    basevm_host: host_1
    basevm_config_file: /home/trainer/images/web.xml
    basevm_type: kvm
- clone_settings:
  - range_id: 123
    hosts:
    - host_id: host_1
      instance_number: 1
      guests:
      - guest_id: desktop
        number: 3
        entry_point: yes
      - guest_id: webserver
        number: 1
      topology:
      - type: custom
        networks:
        - name: office
          members: desktop.eth0
        - name: servers
          members: webserver.eth0, desktop.eth1
          gateway: host_1.eth0
`;
  const translated = cyrisToRange(cyris, { uris: { host_1: "test:///default" }, pool: "default-pool" });
  const range = parseRangeDescription(translated.yaml, "cyris.yaml");
  assert.equal(range.name, "cyris123");
  assert.deepEqual(range.guests.map((g) => g.name), [
    "cyris123-desktop-1",
    "cyris123-desktop-2",
    "cyris123-desktop-3",
    "cyris123-webserver-1",
  ]);
  assert.deepEqual(range.guests[0].nics.map((n) => n.network), ["cyris123-office", "cyris123-servers"]);
  assert.deepEqual(range.guests[3].nics.map((n) => n.network), ["cyris123-servers"]);
  assert.ok(translated.notes.some((n) => /basevm_config_file/.test(n)));
});
