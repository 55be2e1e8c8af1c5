// The range up's first look takes a fast path for its common input (one lease address on a NIC, IPv4,
// in its subnet, usable): mergeSingleLease. It must answer exactly as the full merge, mergeSightings,
// or not at all. Each row says whether the fast path takes the input; where it does, its answer must
// deep-equal mergeSightings' (every field: address, family, prefix, confidence, sources, flags,
// explanation, the other NICs' `why`, `ignored`), so a drift in either function fails here.
import assert from "node:assert/strict";
import { parseCidr } from "../lib/ip/addresses.ts";
import { mergeSightings, mergeSingleLease, sharedOriginsFor } from "../lib/ip/merge.ts";
import { leaseSightings } from "../lib/ip/sources/lease.ts";
import type { Nic, Sighting, SourceReport } from "../lib/ip/types.ts";
import { failed, NIC_A, ok, skipped } from "./_ip_reports.ts";
import { Connection, defineDomain, destroyDomain, startDomain, undefineDomain } from "../mod.ts";

const SUBNET: Nic = { mac: "52:54:00:00:01:aa", type: "network", network: "lan", subnets: ["10.0.0.0/24"] };
const SECOND: Nic = { mac: "52:54:00:00:01:ab", type: "network", network: "lan", subnets: ["10.0.0.0/24"] };
const lease1 = (address: string, extra: Partial<Sighting> = {}, nic: Nic = SUBNET): SourceReport =>
  ok("lease", [{ mac: nic.mac, interfaceName: "vnet0", address, prefix: 24, ...extra }]);
// libvirt's test driver's answer: one invented address per NIC (the network's DHCP start + an offset),
// the same for lease, agent and arp; up's first look asks it with no shared origins, discovery with them
const testDriverNic: Nic = {
  mac: "52:54:00:12:34:56",
  type: "network",
  network: "default",
  subnets: ["192.168.122.0/24"],
};
const testDriver = (mac: string, address: string): Sighting => ({
  source: "lease",
  mac,
  interfaceName: "testnet0",
  address,
  family: "ipv4",
  prefix: 24,
});
const fastPathCases: {
  name: string;
  nics: Nic[];
  reports: SourceReport[];
  options?: Parameters<typeof mergeSightings>[2];
  fast: boolean;
}[] = [
  {
    name: "one lease in the subnet (up's first look)",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5")],
    fast: true,
  },
  {
    name: "one lease in the subnet, family ipv4",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5")],
    options: { family: "ipv4" },
    fast: true,
  },
  {
    name: "no prefix reported",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5", { prefix: undefined })],
    fast: true,
  },
  {
    name: "no interface name, hostname and expiry set",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5", { interfaceName: undefined, hostname: "g1", expiresAt: new Date(0) })],
    fast: true,
  },
  { name: "no subnet known", nics: [NIC_A], reports: [lease1("10.0.0.5", {}, NIC_A)], fast: true },
  {
    name: "only an IPv6 subnet known",
    nics: [{ ...SUBNET, subnets: ["fd00::/64"] }],
    reports: [lease1("10.9.0.5")],
    fast: true,
  },
  {
    name: "a subnet that does not parse",
    nics: [{ ...SUBNET, subnets: ["10.0.0.0/33"] }],
    reports: [lease1("10.9.0.5")],
    fast: true,
  },
  {
    name: "inside the second of two subnets",
    nics: [{ ...SUBNET, subnets: ["10.1.0.0/24", "10.0.0.0/24"] }],
    reports: [lease1("10.0.0.5")],
    fast: true,
  },
  {
    name: "the lease on the second NIC: the first says why it has none",
    nics: [SUBNET, SECOND],
    reports: [lease1("10.0.0.6", {}, SECOND)],
    fast: true,
  },
  {
    name: "other sources skipped, failed or not run",
    nics: [SUBNET, SECOND],
    reports: [
      lease1("10.0.0.5"),
      skipped("agent", "agent not connected"),
      failed("arp", "boom"),
      { source: "plan", status: "not-run", tookMs: 0, reason: "fast mode", sightings: [] },
    ],
    fast: true,
  },
  {
    name: "another source answered with nothing",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5"), ok("agent", [])],
    fast: true,
  },
  {
    name: "no exclusions given",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5")],
    options: { exclude: [] },
    fast: true,
  },
  {
    name: "the test driver's invented address, as up's first look asks",
    nics: [testDriverNic],
    reports: [{
      source: "lease",
      status: "ok",
      tookMs: 0.1,
      sightings: [testDriver(testDriverNic.mac, "192.168.122.23")],
    }],
    options: { family: "ipv4" },
    fast: true,
  },
  {
    name: "the test driver's invented address, with its shared origins declared",
    nics: [testDriverNic],
    reports: [{
      source: "lease",
      status: "ok",
      tookMs: 0.1,
      sightings: [testDriver(testDriverNic.mac, "192.168.122.23")],
    }],
    options: { family: "ipv4", sharedOrigins: sharedOriginsFor("test:///default") },
    fast: true,
  },
  {
    name: "the test driver's answer for two NICs (two sightings)",
    nics: [testDriverNic, { ...testDriverNic, mac: "52:54:00:12:34:57" }],
    reports: [{
      source: "lease",
      status: "ok",
      tookMs: 0.1,
      sightings: [
        testDriver(testDriverNic.mac, "192.168.122.23"),
        testDriver("52:54:00:12:34:57", "192.168.122.24"),
      ],
    }],
    fast: false,
  },
  {
    name: "the test driver's lease, agent and arp: one answer three times",
    nics: [testDriverNic],
    reports: (["lease", "agent", "arp"] as const).map((source) => ({
      source,
      status: "ok" as const,
      tookMs: 0.1,
      sightings: [{ ...testDriver(testDriverNic.mac, "192.168.122.23"), source }],
    })),
    options: { sharedOrigins: sharedOriginsFor("test:///default") },
    fast: false,
  },
  {
    name: "the test driver's address outside the range's subnet",
    nics: [{ ...testDriverNic, subnets: ["10.88.0.0/16"] }],
    reports: [{
      source: "lease",
      status: "ok",
      tookMs: 0.1,
      sightings: [testDriver(testDriverNic.mac, "192.168.122.23")],
    }],
    options: { family: "ipv4" },
    fast: false,
  },
  { name: "outside the subnet", nics: [SUBNET], reports: [lease1("10.0.1.5")], fast: false },
  {
    name: "outside both subnets",
    nics: [{ ...SUBNET, subnets: ["10.1.0.0/24", "fd00::/64", "10.2.0.0/24"] }],
    reports: [lease1("10.0.0.5")],
    fast: false,
  },
  {
    name: "several addresses on the NIC",
    nics: [SUBNET],
    reports: [
      ok("lease", [{ mac: SUBNET.mac, address: "10.0.0.5" }, { mac: SUBNET.mac, address: "10.0.0.6" }]),
    ],
    fast: false,
  },
  {
    name: "the same address twice",
    nics: [SUBNET],
    reports: [
      ok("lease", [{ mac: SUBNET.mac, address: "10.0.0.5" }, { mac: SUBNET.mac, address: "10.0.0.5" }]),
    ],
    fast: false,
  },
  {
    name: "two sources, one address each",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5"), ok("agent", [{ mac: SUBNET.mac, address: "10.0.0.5" }])],
    fast: false,
  },
  {
    name: "an IPv6 lease, family ipv4",
    nics: [SUBNET],
    reports: [lease1("fd00::5")],
    options: { family: "ipv4" },
    fast: false,
  },
  { name: "an IPv6 lease, any family", nics: [SUBNET], reports: [lease1("fd00::5")], fast: false },
  {
    name: "an IPv4 lease, family ipv6",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5")],
    options: { family: "ipv6" },
    fast: false,
  },
  {
    name: "a family that lies (ipv4 claimed for an IPv6 text)",
    nics: [SUBNET],
    reports: [lease1("fd00::5", { family: "ipv4" })],
    fast: false,
  },
  {
    name: "a MAC the domain lacks",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5", { mac: "52:54:00:ff:ff:ff" })],
    fast: false,
  },
  {
    name: "a MAC in upper case",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5", { mac: SUBNET.mac.toUpperCase() })],
    fast: false,
  },
  {
    name: "no MAC, the host device name matches",
    nics: [{ ...SUBNET, target: "vnet0" }],
    reports: [lease1("10.0.0.5", { mac: undefined })],
    fast: false,
  },
  { name: "an empty MAC", nics: [SUBNET], reports: [lease1("10.0.0.5", { mac: "" })], fast: false },
  {
    name: "two NICs of one MAC",
    nics: [SUBNET, { ...SUBNET, network: "other" }],
    reports: [lease1("10.0.0.5")],
    fast: false,
  },
  {
    name: "no lease (the lease source answered nothing)",
    nics: [SUBNET],
    reports: [ok("lease", [])],
    fast: false,
  },
  {
    name: "no lease (the lease source failed)",
    nics: [SUBNET],
    reports: [failed("lease", "boom")],
    fast: false,
  },
  { name: "no reports", nics: [SUBNET], reports: [], fast: false },
  { name: "no NICs", nics: [], reports: [lease1("10.0.0.5")], fast: false },
  {
    name: "an expired lease",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5", { notes: ["expired"] })],
    fast: false,
  },
  {
    name: "a superseded lease",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5", { notes: ["older-duplicate"] })],
    fast: false,
  },
  {
    name: "a lease with another note",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5", { notes: ["from-metadata"] })],
    fast: false,
  },
  {
    name: "a lease with an empty note list",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5", { notes: [] })],
    fast: true,
  },
  {
    name: "an excluded range given (excluding it or not)",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5")],
    options: { exclude: [parseCidr("172.17.0.0/16")] },
    fast: false,
  },
  {
    name: "excluded",
    nics: [SUBNET],
    reports: [lease1("10.0.0.5")],
    options: { exclude: [parseCidr("10.0.0.0/24")] },
    fast: false,
  },
  {
    name: "one network-lease address",
    nics: [SUBNET],
    reports: [ok("network-lease", [{ mac: SUBNET.mac, address: "10.0.0.5" }])],
    fast: false,
  },
  {
    name: "one agent address",
    nics: [SUBNET],
    reports: [ok("agent", [{ mac: SUBNET.mac, address: "10.0.0.5" }])],
    fast: false,
  },
  {
    name: "one arp entry",
    nics: [SUBNET],
    reports: [ok("arp", [{ mac: SUBNET.mac, address: "10.0.0.5" }])],
    fast: false,
  },
  {
    name: "one planned address",
    nics: [SUBNET],
    reports: [ok("plan", [{ mac: SUBNET.mac, address: "10.0.0.5" }])],
    fast: false,
  },
  {
    name: "a lease sighting inside another source's report",
    nics: [SUBNET],
    reports: [{
      source: "agent",
      status: "ok",
      tookMs: 0,
      sightings: [{ source: "lease", mac: SUBNET.mac, address: "10.0.0.5", family: "ipv4" }],
    }],
    fast: true,
  },
  ...[
    "127.0.0.1",
    "169.254.1.1",
    "224.0.0.1",
    "0.0.0.0",
    "10.0.0.256",
    "10.0.0.5%eth0",
    " 10.0.0.5",
    "10.0.0",
    "10.0.0.5.1",
    "",
    "1e1.0.0.5",
  ]
    .map((address) => ({
      name: `an unusable or malformed address ${JSON.stringify(address)}`,
      nics: [SUBNET],
      reports: [lease1(address)],
      fast: false,
    })),
  {
    name: "leading zeros (the merge reads them as decimal)",
    nics: [SUBNET],
    reports: [lease1("010.000.000.005")],
    fast: true,
  },
];

for (const c of fastPathCases) {
  Deno.test(`mergeSingleLease: ${c.name}: ${c.fast ? "the full merge's answer" : "falls back"}`, () => {
    const full = mergeSightings(c.nics, c.reports, c.options);
    const fast = mergeSingleLease(c.nics, c.reports, c.options);
    assert.equal(
      fast !== undefined,
      c.fast,
      `the fast path ${c.fast ? "should" : "should not"} take this input`,
    );
    if (fast) assert.deepStrictEqual(fast, full);
  });
}

Deno.test("mergeSingleLease: the common answer is the lease's confidence, no flags, the merge's words", () => {
  const fast = mergeSingleLease([SUBNET], [lease1("10.0.0.5")], { family: "ipv4" })!;
  assert.deepStrictEqual(fast.nics[0].addresses, [{
    address: "10.0.0.5",
    family: "ipv4",
    prefix: 24,
    confidence: 0.8,
    sources: ["lease"],
    flags: [],
    explanation: "lease 0.8",
  }]);
  assert.deepStrictEqual(fast.ignored, []);
});

Deno.test("mergeSingleLease: the test driver's own answers, as up's first look builds them", async () => {
  // the in-process test driver (no lab): its "default" network is 192.168.122.0/24 with DHCP
  await using conn = await Connection.open("test:///default");
  const macs = ["52:54:00:12:34:56", "52:54:00:12:34:57"];
  const xml = (name: string, nics: string[]) =>
    `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>` +
    nics.map((mac) =>
      `<interface type='network'><source network='default'/><mac address='${mac}'/></interface>`
    )
      .join("") +
    `</devices></domain>`;
  const rows: { nics: string[]; subnet: string; fast: boolean }[] = [
    { nics: macs.slice(0, 1), subnet: "192.168.122.0/24", fast: true },
    { nics: macs.slice(0, 1), subnet: "10.88.0.0/16", fast: false }, // outside the NIC's subnet
    { nics: macs, subnet: "192.168.122.0/24", fast: false }, // two NICs: two leases
  ];
  for (const [i, row] of rows.entries()) {
    const domain = await defineDomain(conn, xml(`fast-path-${i}`, row.nics));
    try {
      await startDomain(domain, { ifNeeded: true, states: false });
      const sightings = leaseSightings(await domain.interfaceAddresses("lease"));
      const nics: Nic[] = row.nics.map((mac) => ({
        mac,
        type: "network",
        network: "default",
        subnets: [row.subnet],
      }));
      const reports: SourceReport[] = [{ source: "lease", status: "ok", tookMs: 0.1, sightings }];
      for (const options of [{ family: "ipv4" as const }, { sharedOrigins: sharedOriginsFor(conn.uri) }]) {
        const full = mergeSightings(nics, reports, options);
        const fast = mergeSingleLease(nics, reports, options);
        assert.equal(fast !== undefined, row.fast, `row ${i}: ${JSON.stringify(sightings)}`);
        if (fast) assert.deepStrictEqual(fast, full);
      }
    } finally {
      await destroyDomain(domain).catch(() => undefined);
      await undefineDomain(domain);
      domain.free();
    }
  }
});
