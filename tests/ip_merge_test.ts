// IP discovery's decisions, table-driven on synthetic sightings: one case (at least) per complaint
// in ../shared/notes/ip-discovery.md. Pure functions: no libvirt involved.
// the class modules fill lib/objects/_types.ts's ObjectClasses registry (declaration merging): without
// them in the program the object types are missing when this file is checked alone
import type {} from "../mod.ts";
import assert from "node:assert/strict";
import { inCidr, normalizeMac, parseCidr, toBigInt, unusable } from "../lib/ip/addresses.ts";
import { mergeSightings, sharedOriginsFor } from "../lib/ip/merge.ts";
import { parseNeighbourTable } from "../lib/ip/sources/arp.ts";
import { reservationsOf, subnetsOf } from "../lib/ip/sources/_network_xml.ts";
import { encodedMacRule } from "../lib/ip/sources/plan.ts";
import { PLAN_NAMESPACE, readDomainXml } from "../lib/ip/target.ts";
import type { Nic, SourceReport } from "../lib/ip/types.ts";
import { failed, NIC_A, ok, skipped } from "./_ip_reports.ts";

const NIC_B: Nic = { mac: "52:54:00:00:00:0b", type: "network", network: "lab", target: "vnet1" };
const BRIDGED: Nic = { mac: "52:54:00:00:00:0c", type: "bridge", bridge: "br0", target: "vnet2" };

interface Case {
  name: string;
  nics: Nic[];
  reports: SourceReport[];
  options?: Parameters<typeof mergeSightings>[2];
  /** per NIC: [address, confidence, flags] of the best address, or a regexp the `why` must match */
  expect: ([string, number, string[]] | RegExp)[];
  ignored?: string[];
}

const cases: Case[] = [
  {
    name: "lease and agent agree: independent evidence raises confidence",
    nics: [NIC_A],
    reports: [
      ok("lease", [{ mac: NIC_A.mac, address: "10.0.0.5", prefix: 24 }]),
      ok("agent", [{ mac: NIC_A.mac, address: "10.0.0.5", interfaceName: "eth0" }]),
    ],
    expect: [["10.0.0.5", 0.98, []]],
  },
  {
    name: "the two DHCP sources count once (same dnsmasq)",
    nics: [NIC_A],
    reports: [
      ok("lease", [{ mac: NIC_A.mac, address: "10.0.0.5" }]),
      ok("network-lease", [{ mac: NIC_A.mac, address: "10.0.0.5" }]),
    ],
    expect: [["10.0.0.5", 0.8, []]],
  },
  {
    name: "MACs match case-insensitively (sources report upper case)",
    nics: [NIC_A],
    reports: [ok("lease", [{ mac: normalizeMac("52:54:00:00:00:0A"), address: "10.0.0.5" }])],
    expect: [["10.0.0.5", 0.8, []]],
  },
  {
    name: "bridged NIC without a lease: the agent finds it, and the reason for no lease is kept",
    nics: [BRIDGED],
    reports: [
      skipped("lease", "no NIC on a libvirt network"),
      ok("agent", [{ mac: BRIDGED.mac, address: "192.168.1.50" }]),
    ],
    expect: [["192.168.1.50", 0.9, []]],
  },
  {
    name: "bridged NIC, no agent, no ARP: nothing, and the why names each source",
    nics: [BRIDGED],
    reports: [
      skipped("lease", "no NIC on a libvirt network (NIC types: bridge)"),
      skipped("agent", "no guest agent channel (org.qemu.guest_agent.0) in the domain XML"),
      ok("arp", []),
    ],
    expect: [
      /lease: no NIC on a libvirt network .*; agent: no guest agent channel.*; arp: no neighbour entry for MAC 52:54:00:00:00:0c/,
    ],
  },
  {
    name: "agent reports lo and docker0: loopback and foreign MACs are dropped",
    nics: [NIC_A],
    reports: [ok("agent", [
      { mac: "00:00:00:00:00:00", interfaceName: "lo", address: "127.0.0.1" },
      { mac: "00:00:00:00:00:00", interfaceName: "lo", address: "::1" },
      { mac: "02:42:ac:11:00:01", interfaceName: "docker0", address: "172.17.0.1" },
      { mac: NIC_A.mac, interfaceName: "eth0", address: "10.0.0.5" },
      { mac: NIC_A.mac, interfaceName: "eth0", address: "fe80::5054:ff:fe00:a" },
    ])],
    expect: [["10.0.0.5", 0.9, []]],
    ignored: [
      "127.0.0.1:loopback",
      "::1:loopback",
      "172.17.0.1:not-a-domain-nic",
      "fe80::5054:ff:fe00:a:link-local",
    ],
  },
  {
    name: "a docker bridge on the NIC itself is dropped by an excluded range",
    nics: [NIC_A],
    reports: [
      ok("agent", [{ mac: NIC_A.mac, address: "172.17.0.2" }, { mac: NIC_A.mac, address: "10.0.0.5" }]),
    ],
    options: { exclude: [parseCidr("172.16.0.0/12")] },
    expect: [["10.0.0.5", 0.9, []]],
    ignored: ["172.17.0.2:excluded"],
  },
  {
    name: "stale lease after MAC reuse: the older duplicate lease loses to the newer",
    nics: [NIC_A],
    reports: [ok("network-lease", [
      { mac: NIC_A.mac, address: "10.0.0.9", expiresAt: new Date(2_000_000) },
      { mac: NIC_A.mac, address: "10.0.0.5", expiresAt: new Date(1_000_000), notes: ["older-duplicate"] },
    ])],
    expect: [["10.0.0.9", 0.8, []]],
  },
  {
    name: "stale lease after MAC reuse: the agent contradicts the lease",
    nics: [NIC_A],
    reports: [
      ok("lease", [{ mac: NIC_A.mac, address: "10.0.0.5" }]),
      ok("agent", [{ mac: NIC_A.mac, address: "10.0.0.9" }]),
    ],
    expect: [["10.0.0.9", 0.9, []]],
  },
  {
    name: "an expired lease alone is weak",
    nics: [NIC_A],
    reports: [ok("network-lease", [{ mac: NIC_A.mac, address: "10.0.0.5", notes: ["expired"] }])],
    expect: [["10.0.0.5", 0.15, ["expired-lease"]]],
  },
  {
    name: "an ARP-only sighting is flagged and half-trusted",
    nics: [NIC_A],
    reports: [ok("lease", []), ok("arp", [{ mac: NIC_A.mac, address: "10.0.0.5", notes: ["kernel-table"] }])],
    expect: [["10.0.0.5", 0.5, ["arp-only"]]],
  },
  {
    name: "IPv6-only guest: its global address counts, its link-local does not",
    nics: [NIC_A],
    reports: [
      ok("agent", [{ mac: NIC_A.mac, address: "fe80::1" }, {
        mac: NIC_A.mac,
        address: "fd00:77::5",
        prefix: 64,
      }]),
    ],
    expect: [["fd00:77::5", 0.9, []]],
  },
  {
    name: "IPv6-only guest asked for IPv4: nothing, and the why says what was dropped",
    nics: [NIC_A],
    reports: [ok("agent", [{ mac: NIC_A.mac, address: "fd00:77::5" }])],
    options: { family: "ipv4" },
    expect: [/agent: only fd00:77::5 \(family\)/],
  },
  {
    name: "IPv4 is preferred over a more confident IPv6 unless asked",
    nics: [NIC_A],
    reports: [
      ok("agent", [{ mac: NIC_A.mac, address: "fd00::5" }]),
      ok("arp", [{ mac: NIC_A.mac, address: "10.0.0.5" }]),
    ],
    expect: [["10.0.0.5", 0.5, ["arp-only"]]],
  },
  {
    name: "two NICs: each gets its own address",
    nics: [NIC_A, NIC_B],
    reports: [
      ok("lease", [{ mac: NIC_A.mac, address: "10.0.0.5" }, { mac: NIC_B.mac, address: "10.0.1.5" }]),
    ],
    expect: [["10.0.0.5", 0.8, []], ["10.0.1.5", 0.8, []]],
  },
  {
    name: "NIC without an address next to one with: the empty one explains itself",
    nics: [NIC_A, NIC_B],
    reports: [
      ok("lease", [{ mac: NIC_A.mac, address: "10.0.0.5" }]),
      failed("agent", "QEMU guest agent is not connected"),
    ],
    expect: [
      ["10.0.0.5", 0.8, []],
      /lease: no lease for MAC 52:54:00:00:00:0b; agent: failed: QEMU guest agent is not connected/,
    ],
  },
  {
    name: "a sighting without MAC matches by host device name",
    nics: [NIC_A, NIC_B],
    reports: [ok("lease", [{ interfaceName: "vnet1", address: "10.0.1.5" }])],
    expect: [/no lease for MAC 52:54:00:00:00:0a/, ["10.0.1.5", 0.8, []]],
  },
  {
    name: "a planned address no live source confirms: unconfirmed",
    nics: [NIC_A],
    reports: [
      ok("lease", []),
      ok("plan", [{ mac: NIC_A.mac, address: "10.0.0.7", notes: ["from-metadata"] }]),
    ],
    expect: [["10.0.0.7", 0.4, ["unconfirmed-plan"]]],
  },
  {
    name: "a planned address while live sources see another: contradicted",
    nics: [NIC_A],
    reports: [
      ok("lease", [{ mac: NIC_A.mac, address: "10.0.0.5" }]),
      ok("plan", [{ mac: NIC_A.mac, address: "10.0.0.7" }]),
    ],
    expect: [["10.0.0.5", 0.8, []]],
  },
  {
    name: "plan confirmed by the lease: both agree",
    nics: [NIC_A],
    reports: [
      ok("lease", [{ mac: NIC_A.mac, address: "10.0.0.7" }]),
      ok("plan", [{ mac: NIC_A.mac, address: "10.0.0.7" }]),
    ],
    expect: [["10.0.0.7", 0.88, []]],
  },
  {
    name: "timeouts and not-run sources are explained",
    nics: [NIC_A],
    reports: [
      { source: "agent", status: "timeout", tookMs: 2000, reason: "2000 ms", sightings: [] },
      { source: "plan", status: "not-run", tookMs: 0, reason: "fast mode: already confident", sightings: [] },
    ],
    expect: [/agent: no answer within 2000 ms; plan: not asked \(fast mode: already confident\)/],
  },
];

for (const c of cases) {
  Deno.test(`mergeSightings: ${c.name}`, () => {
    const merged = mergeSightings(c.nics, c.reports, c.options);
    assert.equal(merged.nics.length, c.nics.length);
    c.expect.forEach((expected, i) => {
      const nic = merged.nics[i];
      if (expected instanceof RegExp) {
        assert.equal(
          nic.addresses.length,
          0,
          `NIC ${i} should have no address: ${JSON.stringify(nic.addresses)}`,
        );
        assert.match(nic.why ?? "", expected);
      } else {
        const [address, confidence, flags] = expected;
        const best = nic.addresses[0];
        assert.ok(best, `NIC ${i} has an address; why: ${nic.why}`);
        assert.equal(best.address, address);
        assert.equal(best.confidence, confidence);
        for (const f of flags) assert.ok(best.flags.includes(f), `flag ${f} in ${best.flags}`);
      }
    });
    if (c.ignored) {
      assert.deepEqual(
        merged.ignored.map((i) => `${i.sighting.address}:${i.reason}`).sort(),
        [...c.ignored].sort(),
      );
    }
  });
}

Deno.test("mergeSightings: the contradicted lease stays listed, with its flag and a cut confidence", () => {
  const merged = mergeSightings([NIC_A], [
    ok("lease", [{ mac: NIC_A.mac, address: "10.0.0.5" }]),
    ok("agent", [{ mac: NIC_A.mac, address: "10.0.0.9" }]),
  ]);
  const stale = merged.nics[0].addresses.find((a) => a.address === "10.0.0.5")!;
  assert.deepEqual(stale.flags, ["contradicted-by-agent"]);
  assert.equal(stale.confidence, 0.24);
});

Deno.test("addresses: CIDR matching, loopback and link-local, IPv6 forms", () => {
  assert.ok(inCidr("10.77.1.5", parseCidr("10.77.0.0/16")));
  assert.ok(!inCidr("10.78.1.5", parseCidr("10.77.0.0/16")));
  assert.ok(inCidr("fd00:77::5", parseCidr("fd00::/8")));
  assert.ok(!inCidr("10.0.0.1", parseCidr("fd00::/8")));
  assert.equal(toBigInt("::ffff:10.0.0.1"), toBigInt("::ffff:a00:1"));
  assert.equal(toBigInt("1::2:3::4"), undefined);
  assert.equal(unusable("127.0.0.53"), "loopback");
  assert.equal(unusable("169.254.10.1"), "link-local");
  assert.equal(unusable("FE80::1%eth0"), "link-local");
  assert.equal(unusable("224.0.0.1"), "multicast");
  assert.equal(unusable("10.0.0.1"), undefined);
  assert.throws(() => parseCidr("10.0.0.0/33"), /Cannot use "10.0.0.0\/33" as an address range/);
  assert.equal(normalizeMac("52-54-00-AA-BB-CC"), "52:54:00:aa:bb:cc");
  assert.equal(normalizeMac("nonsense"), undefined);
});

Deno.test("addresses: the IPv4 fast paths agree with the bigint arithmetic they replace", () => {
  // the reference: the former definition (split, a regex per part, bigint shifts)
  const reference = (address: string): bigint | undefined => {
    const parts = address.split(".");
    if (parts.length !== 4) return undefined;
    let value = 0n;
    for (const part of parts) {
      if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
      value = (value << 8n) | BigInt(part);
    }
    return value;
  };
  const referenceIn = (address: string, cidr: string) => {
    const [base, bits] = cidr.split("/");
    const v = reference(address);
    const shift = BigInt(32 - Number(bits));
    return v !== undefined && (v >> shift) === (reference(base)! >> shift);
  };
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const pieces = [
    "0",
    "1",
    "9",
    "10",
    "127",
    "169",
    "254",
    "255",
    "256",
    "999",
    "001",
    "0255",
    "",
    "a",
    "-1",
    " 1",
  ];
  const samples = ["", ".", "1.2.3", "1.2.3.4.", "1..2.3", "1.2.3.4", "0.0.0.0", "255.255.255.255"];
  for (let i = 0; i < 4000; i++) {
    const n = 3 + random(3);
    samples.push(Array.from({ length: n }, () => pieces[random(pieces.length)]).join("."));
    samples.push([random(256), random(256), random(256), random(256)].join("."));
  }
  const ranges = [
    "0.0.0.0/0",
    "10.0.0.0/8",
    "10.88.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "224.0.0.0/4",
    "1.2.3.4/32",
    "128.0.0.0/1",
  ];
  for (const address of samples) {
    assert.equal(toBigInt(address), reference(address), address);
    for (const r of ranges) {
      assert.equal(inCidr(address, parseCidr(r)), referenceIn(address, r), `${address} in ${r}`);
    }
    const expected = reference(address) === undefined
      ? undefined
      : referenceIn(address, "127.0.0.0/8")
      ? "loopback"
      : referenceIn(address, "169.254.0.0/16")
      ? "link-local"
      : referenceIn(address, "224.0.0.0/4")
      ? "multicast"
      : reference(address) === 0n
      ? "unspecified"
      : undefined;
    assert.equal(unusable(address), expected, address);
  }
});

Deno.test("plan source helpers: the MAC-encoded rule and network reservations", () => {
  const rule = encodedMacRule("10.77.0.0/16");
  assert.equal(rule("52:54:00:00:05:0b"), "10.77.5.11");
  assert.equal(rule("aa:bb:cc:00:05:0b"), undefined, "only MACs with the rule's prefix");
  assert.equal(encodedMacRule("192.168.3.0/24")("52:54:00:aa:bb:07"), "192.168.3.7");
  assert.throws(() => encodedMacRule("fd00::/64"), /give an IPv4 range from \/8 to \/24/);
  const xml = `<network><name>lab</name><ip address='10.0.0.1' netmask='255.255.255.0'><dhcp>
    <range start='10.0.0.10' end='10.0.0.99'/>
    <host mac='52:54:00:00:00:0A' name='web' ip='10.0.0.21'/>
    <host mac='52:54:00:00:00:0b' ip='10.0.0.22'/></dhcp></ip></network>`;
  assert.deepEqual([...reservationsOf(xml)], [["52:54:00:00:00:0a", ["10.0.0.21"]], ["52:54:00:00:00:0b", [
    "10.0.0.22",
  ]]]);
});

Deno.test("arp source helper: only complete neighbour entries, by MAC", () => {
  const table = `IP address       HW type     Flags       HW address            Mask     Device
10.77.1.23       0x1         0x2         52:54:00:aa:bb:cc     *        dlvnat0
10.77.1.24       0x1         0x0         00:00:00:00:00:00     *        dlvnat0
10.77.1.25       0x1         0x2         52:54:00:AA:BB:CC     *        dlvnat0`;
  assert.deepEqual([...parseNeighbourTable(table)], [["52:54:00:aa:bb:cc", ["10.77.1.23", "10.77.1.25"]]]);
});

Deno.test("readDomainXml: NICs, agent channel state, planned addresses, liveness", () => {
  const xml = `<domain type='qemu' id='7'><name>web</name><metadata>
    <ip:plan xmlns:ip="${PLAN_NAMESPACE}"><ip:nic mac="52:54:00:00:00:0A" address="10.0.0.21"/></ip:plan>
    <other:x xmlns:other="urn:other"><other:nic mac="52:54:00:00:00:0a" address="6.6.6.6"/></other:x></metadata>
    <devices>
      <interface type='network'><mac address='52:54:00:00:00:0A'/><source network='lab' bridge='virbr9'/><target dev='vnet4'/><model type='virtio'/></interface>
      <interface type='bridge'><mac address='52:54:00:00:00:0c'/><source bridge='br0'/></interface>
      <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0' state='disconnected'/></channel>
    </devices></domain>`;
  const facts = readDomainXml(xml);
  assert.deepEqual(facts.nics, [
    {
      mac: "52:54:00:00:00:0a",
      type: "network",
      network: "lab",
      bridge: "virbr9",
      target: "vnet4",
      model: "virtio",
    },
    { mac: "52:54:00:00:00:0c", type: "bridge", bridge: "br0" },
  ]);
  assert.equal(facts.agent, "disconnected");
  assert.deepEqual(
    [...facts.plannedByMac],
    [["52:54:00:00:00:0a", ["10.0.0.21"]]],
    "only our namespace counts",
  );
  assert.equal(facts.active, true);
  assert.equal(readDomainXml("<domain type='qemu'><name>off</name><devices/></domain>").active, false);
  assert.equal(readDomainXml("<domain type='qemu'><name>off</name><devices/></domain>").agent, "absent");
});

// Plausible addresses (issue 14): an address outside its NIC's network is flagged and demoted, and
// sources that are one answer do not compound.
const LAN: Nic = { ...NIC_A, subnets: ["10.0.0.0/24"] };

Deno.test("mergeSightings: an address outside the NIC's network subnet is flagged, demoted, explained", () => {
  const { nics } = mergeSightings([LAN], [
    ok("lease", [{ mac: LAN.mac, address: "10.0.1.5", prefix: 24 }]),
    ok("agent", [{ mac: LAN.mac, address: "10.0.1.5", interfaceName: "eth0" }]),
  ]);
  const [outside] = nics[0].addresses;
  assert.equal(outside.confidence, 0.294, "0.98 x 0.3");
  assert.deepEqual(outside.flags, ["outside-subnet"]);
  assert.match(outside.explanation, /outside 10\.0\.0\.0\/24, the subnet of network lab: x0\.3 = 0\.294$/);
  assert.ok(outside.confidence < 0.5, "it no longer qualifies as the guest's address");
});

Deno.test("mergeSightings: the address inside the subnet wins over one outside it", () => {
  const { nics } = mergeSightings([LAN], [
    ok("agent", [
      { mac: LAN.mac, address: "192.168.5.9", interfaceName: "eth0" },
      { mac: LAN.mac, address: "10.0.0.9", interfaceName: "eth0" },
    ]),
  ]);
  assert.deepEqual(nics[0].addresses.map((a) => [a.address, a.confidence]), [["10.0.0.9", 0.9], [
    "192.168.5.9",
    0.27,
  ]]);
  assert.deepEqual(nics[0].addresses[0].flags, []);
});

Deno.test("mergeSightings: no subnet known, or only another family's, judges nothing", () => {
  for (const nic of [NIC_A, { ...NIC_A, subnets: ["fd00::/64"] }, { ...NIC_A, subnets: ["garbage"] }]) {
    const { nics } = mergeSightings([nic], [ok("lease", [{ mac: nic.mac, address: "10.0.1.5" }])]);
    assert.equal(nics[0].addresses[0].confidence, 0.8, JSON.stringify(nic.subnets));
    assert.deepEqual(nics[0].addresses[0].flags, []);
  }
});

Deno.test("mergeSightings: sources declared one answer count once", () => {
  const reports = [
    ok("lease", [{ mac: LAN.mac, address: "10.0.0.5", interfaceName: "vnet0", prefix: 24 }]),
    ok("agent", [{ mac: LAN.mac, address: "10.0.0.5", interfaceName: "eth0", prefix: 24 }]),
    ok("arp", [{ mac: LAN.mac, address: "10.0.0.5", interfaceName: "vnet0" }]),
  ];
  const independent = mergeSightings([LAN], reports).nics[0].addresses[0];
  assert.equal(independent.confidence, 0.99);
  assert.deepEqual(independent.flags, []);
  assert.match(independent.explanation, /independent, combined: 0\.99$/);
  const shared = mergeSightings([LAN], reports, { sharedOrigins: sharedOriginsFor("test:///default") })
    .nics[0].addresses[0];
  assert.equal(shared.confidence, 0.9);
  assert.deepEqual(shared.flags, ["same-origin"]);
  assert.match(
    shared.explanation,
    /count once \(libvirt's test driver invents one answer for all three\): 0\.9/,
  );
  // a plan is still independent of them
  const planned = mergeSightings([LAN], [...reports, ok("plan", [{ mac: LAN.mac, address: "10.0.0.5" }])], {
    sharedOrigins: sharedOriginsFor("test+unix:///default"),
  }).nics[0].addresses[0];
  assert.equal(planned.confidence, 0.94);
});

Deno.test("mergeSightings: sources with identical answers count once, even undeclared", () => {
  const answer = [
    { mac: NIC_A.mac, address: "10.0.0.5", interfaceName: "testnet0", prefix: 24 },
    { mac: NIC_B.mac, address: "10.0.0.6", interfaceName: "testnet1", prefix: 24 },
  ];
  const { nics } = mergeSightings([NIC_A, NIC_B], [
    ok("lease", answer),
    ok("agent", answer),
    ok("arp", answer),
  ]);
  for (const n of nics) {
    assert.equal(n.addresses[0].confidence, 0.9);
    assert.deepEqual(n.addresses[0].flags, ["same-origin"]);
    assert.match(n.addresses[0].explanation, /gave identical answers/);
  }
  // one differing field (the agent's guest-side name) makes them independent again
  const agent = answer.map((s, i) => ({ ...s, interfaceName: `eth${i}` }));
  const apart = mergeSightings([NIC_A, NIC_B], [ok("lease", answer), ok("agent", agent)]);
  assert.equal(apart.nics[0].addresses[0].confidence, 0.98);
});

Deno.test("sharedOriginsFor: only the test driver's sources are one answer", () => {
  assert.deepEqual(sharedOriginsFor("test:///default")[0].sources, ["lease", "agent", "arp"]);
  assert.equal(sharedOriginsFor("TEST+unix:///default").length, 1);
  for (const uri of ["qemu:///system", "qemu+tcp://10.77.9.2/system", "testx:///", ""]) {
    assert.deepEqual(sharedOriginsFor(uri), [], uri);
  }
});

Deno.test("subnetsOf: a network's <ip> elements as subnets, with host bits cleared", () => {
  const xml = `<network><name>n</name>
    <ip address='10.66.1.1' netmask='255.255.255.0'><dhcp><range start='10.66.1.100' end='10.66.1.250'/></dhcp></ip>
    <ip address='172.16.5.1' prefix='20'/>
    <ip family='ipv6' address='fd00:66:0:1::1' prefix='64'/>
    <ip address='10.9.9.1' netmask='255.0.255.0'/>
    <ip address='10.8.8.1'/></network>`;
  assert.deepEqual(subnetsOf(xml), ["10.66.1.0/24", "172.16.0.0/20", "fd00:66:0:1::/64", "10.8.8.0/24"]);
  assert.deepEqual(subnetsOf("<network><name>bare</name></network>"), []);
});

Deno.test("mergeSightings: an address that is not an IP literal is dropped as malformed, never the guest's address", () => {
  // a guest's root can answer for qemu-ga: libvirt passes its "ip-address" strings on unchecked, and
  // the best address becomes ansible_host, which Ansible templates on the controller
  const hostile = [
    "{{ lookup('pipe', 'id') }}",
    "fd00::5%{{ lookup('pipe', 'id') }}",
    "10.0.0.5 -oProxyCommand=id",
    "10.0.0.256",
    "",
  ];
  const agent: SourceReport = {
    source: "agent",
    status: "ok",
    tookMs: 0.2,
    sightings: [
      ...hostile.map((address) => ({
        source: "agent" as const,
        mac: BRIDGED.mac,
        address,
        family: "ipv4" as const,
      })),
      // an IPv6 address the guest calls IPv4 would pass the IPv4 filter
      { source: "agent", mac: BRIDGED.mac, address: "fd00::9", family: "ipv4" },
      { source: "agent", mac: BRIDGED.mac, address: "192.168.1.50", family: "ipv4" },
    ],
  };
  const merged = mergeSightings([BRIDGED], [agent], { family: "ipv4" });
  assert.deepEqual(merged.nics[0].addresses.map((a) => a.address), ["192.168.1.50"]);
  assert.deepEqual(
    merged.ignored.map((i) => `${i.sighting.address}:${i.reason}`),
    [...hostile, "fd00::9"].map((a) => `${a}:malformed`),
  );
  const none = mergeSightings([BRIDGED], [{ ...agent, sightings: agent.sightings.slice(0, 1) }]);
  assert.equal(none.nics[0].addresses.length, 0);
  assert.match(none.nics[0].why ?? "", /agent: only .* \(malformed\)/);
});
