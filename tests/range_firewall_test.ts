// The firewall section of range descriptions (lib/range/description/firewall.ts) and the network
// filters it becomes (lib/range/firewall.ts): validation with located errors, the filter XML, the
// filter references in the guests' domain XML, plan items and ownership-record entries.
// the class modules fill lib/objects/_types.ts's ObjectClasses registry (declaration merging): without
// them in the program the object types are missing when this file is checked alone
import type {} from "../mod.ts";
import assert from "node:assert/strict";
import { parseRangeDescription, RangeDescriptionError, validateRange } from "../lib/range/description.ts";
import { firewallFilters, firewallFilterXml, withFirewall } from "../lib/range/firewall.ts";
import { guestXml, parseRecord, recordXml } from "../lib/range/_libvirt.ts";
import { planHost } from "../lib/range/plan.ts";

function base(firewall: unknown) {
  return {
    name: "fw",
    hosts: [{ id: "h1", uri: "qemu:///system" }, { id: "h2", uri: "qemu+tcp://10.0.0.2/system" }],
    storage: { pool: "default" },
    networks: [
      {
        name: "red",
        mode: "isolated",
        subnet: "10.50.1.0/24",
        dhcp: { start: "10.50.1.100", end: "10.50.1.200" },
      },
      { name: "dmz", mode: "isolated", subnet: "10.50.2.0/24" },
    ],
    guests: [
      { id: "attacker", memory: 96, nics: [{ network: "red", address: "10.50.1.10" }], count: 2 },
      {
        id: "web",
        memory: 96,
        count: 3,
        hosts: ["h1", "h2"],
        nics: [{ network: "dmz" }, { network: "red" }],
      },
      { id: "pc", memory: 96, nics: [{ network: "red" }] },
      { id: "lonely", memory: 96 },
    ],
    firewall,
  };
}

function issues(firewall: unknown): string[] {
  try {
    validateRange(base(firewall));
  } catch (error) {
    assert.ok(error instanceof RangeDescriptionError, String(error));
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

Deno.test("validateRange normalizes firewall rules", () => {
  const range = validateRange(base([
    { from: "red", to: "web", allow: ["tcp/22", "TCP/80", "tcp/22", "udp/53", "tcp/8000-8100", "icmp"] },
    { from: "attacker", to: "pc", allow: [] },
    { from: "any", to: "attacker", allow: ["all"] },
  ]));
  assert.deepEqual(range.description.firewall, [
    { from: "network:red", to: "web", allow: ["tcp/22", "tcp/80", "udp/53", "tcp/8000-8100", "icmp"] },
    { from: "guest:attacker", to: "pc", allow: [] },
    { from: "any", to: "attacker", allow: ["all"] },
  ]);
  // the normalized form validates to itself (the operations re-check a Range from its description)
  assert.deepEqual(
    validateRange(structuredClone(range.description)).description.firewall,
    range.description.firewall,
  );
  assert.equal(validateRange(base(undefined)).description.firewall, undefined);
});

Deno.test("validateRange refuses bad firewall rules, naming the field and the fix", () => {
  const cases: [unknown, RegExp][] = [
    [{ from: "red" }, /^firewall: must be a list/],
    [[{ from: "red", to: "web" }], /^firewall\[0\]\.allow: is required/],
    [[{ from: "red", to: "web", allow: ["tcp/22"], port: 1 }], /^firewall\[0\]\.port: unknown field/],
    [
      [{ from: "blue", to: "web", allow: [] }],
      /^firewall\[0\]\.from: unknown source "blue" \(networks: "red", "dmz"; guests: .*or "any"\)/,
    ],
    [[{ from: "network:web", to: "web", allow: [] }], /^firewall\[0\]\.from: unknown network "web"/],
    [[{ from: "red", to: "db", allow: [] }], /^firewall\[0\]\.to: unknown guest "db"/],
    [
      [{ from: "red", to: "web", allow: ["ssh"] }],
      /^firewall\[0\]\.allow\[0\]: "ssh" is not a service: write "tcp\/PORT"/,
    ],
    [
      [{ from: "red", to: "web", allow: ["tcp/0"] }],
      /^firewall\[0\]\.allow\[0\]: "tcp\/0": port 0 is not a port number/,
    ],
    [[{ from: "red", to: "web", allow: ["tcp/70000"] }], /port 70000 is not a port number/],
    [[{ from: "red", to: "web", allow: ["tcp/080"] }], /no leading zeros/],
    [
      [{ from: "red", to: "web", allow: ["udp/90-80"] }],
      /ends \(80\) before it starts \(90\): write udp\/80-90/,
    ],
    [[{ from: "red", to: "web", allow: [22] }], /^firewall\[0\]\.allow\[0\]: must be a non-empty string/],
    [[{ from: "attacker", to: "attacker", allow: [] }], /traffic to itself is not filtered/],
    [
      [{ from: "red", to: "web", allow: [] }, { from: "network:red", to: "web", allow: ["tcp/1"] }],
      /^firewall\[1\]\.from: a second rule from "network:red" to "web": merge its allow list into firewall\[0\]/,
    ],
    [
      [{ from: "pc", to: "web", allow: [] }],
      /^firewall\[0\]\.from: guest "pc" has a NIC without a planned address/,
    ],
    [[{ from: "red", to: "lonely", allow: [] }], /^firewall\[0\]\.to: guest "lonely" has no NIC/],
    [[{ from: "red", to: "web", allow: "tcp/22" }], /^firewall\[0\]\.allow: must be a list/],
  ];
  for (const [firewall, expected] of cases) {
    const found = issues(firewall);
    assert.ok(
      found.some((i) => expected.test(i)),
      `${JSON.stringify(firewall)}: ${found.join(" | ") || "accepted"}`,
    );
  }
  // a name that is both a network and a guest must say which
  const both = base([{ from: "red", to: "web", allow: [] }]);
  both.guests.push({ id: "red", memory: 96, nics: [{ network: "dmz", address: "10.50.2.9" }] } as never);
  assert.throws(
    () => validateRange(both),
    /"red" is both a network and a guest: write "network:red" or "guest:red"/,
  );
  // located, from text
  assert.throws(
    () =>
      parseRangeDescription(
        [
          "name: fw",
          "hosts: [{ id: h, uri: 'qemu:///system' }]",
          "storage: { pool: default }",
          "networks: [{ name: red, mode: isolated, subnet: 10.50.1.0/24 }]",
          "guests: [{ id: web, memory: 96, nics: [{ network: red }] }]",
          "firewall:",
          "  - { from: red, to: web, allow: [tcp/22, tcp/99999] }",
        ].join("\n"),
        "fw.yaml",
      ),
    /line 7, column \d+: firewall\[0\]\.allow\[1\]: "tcp\/99999": port 99999/,
  );
});

Deno.test("firewallFilterXml: replies and DHCP first, accepts per source and service, then the source's drop", () => {
  const range = validateRange(base([
    { from: "red", to: "web", allow: ["tcp/22", "tcp/8000-8100", "icmp"] },
    { from: "attacker", to: "pc", allow: ["udp/53"] },
    { from: "any", to: "attacker", allow: ["all"] },
  ]));
  assert.equal(
    firewallFilterXml(range, "web"),
    "<filter name='fw.fw.web' chain='root'>" +
      "<rule action='accept' direction='in' priority='-500'><all state='ESTABLISHED,RELATED'/></rule>" +
      "<rule action='accept' direction='in' priority='-400'><udp srcportstart='67' dstportstart='68'/></rule>" +
      "<rule action='accept' direction='in' priority='100'><tcp srcipaddr='10.50.1.0' srcipmask='24' dstportstart='22'/></rule>" +
      "<rule action='accept' direction='in' priority='101'><tcp srcipaddr='10.50.1.0' srcipmask='24' dstportstart='8000' dstportend='8100'/></rule>" +
      "<rule action='accept' direction='in' priority='102'><icmp srcipaddr='10.50.1.0' srcipmask='24'/></rule>" +
      "<rule action='drop' direction='in' priority='600'><all srcipaddr='10.50.1.0' srcipmask='24'/></rule>" +
      "</filter>",
  );
  const pc = firewallFilterXml(range, "pc");
  // the attacker kind's two instances: 10.50.1.10 and 10.50.1.11
  assert.match(pc, /<udp srcipaddr='10\.50\.1\.10' dstportstart='53'\/>.*<all srcipaddr='10\.50\.1\.10'\/>/);
  assert.match(pc, /<udp srcipaddr='10\.50\.1\.11' dstportstart='53'\/>.*<all srcipaddr='10\.50\.1\.11'\/>/);
  assert.match(
    firewallFilterXml(range, "attacker"),
    /<rule action='accept' direction='in' priority='100'><all\/><\/rule><rule action='drop' direction='in' priority='600'><all\/><\/rule>/,
  );
  assert.throws(() => firewallFilterXml(range, "lonely"), RangeError);
  // per host: only kinds with instances there
  assert.deepEqual(firewallFilters(range, "h1").map((f) => f.name), [
    "fw.fw.web",
    "fw.fw.pc",
    "fw.fw.attacker",
  ]);
  assert.deepEqual(firewallFilters(range, "h2").map((f) => f.name), ["fw.fw.web"]);
});

Deno.test("guestXml references the filter from every NIC of a protected guest, and only then", () => {
  const range = validateRange(base([{ from: "red", to: "web", allow: ["tcp/80"] }]));
  const web = range.guests.find((g) => g.guestId === "web")!;
  const xml = guestXml(range, web, "/pool/web.qcow2");
  assert.equal((xml.match(/<filterref filter='fw\.fw\.web'\/><\/interface>/g) ?? []).length, 2);
  const pc = range.guests.find((g) => g.guestId === "pc")!;
  assert.doesNotMatch(guestXml(range, pc, "/pool/pc.qcow2"), /filterref/);
  assert.equal(withFirewall(range, "pc", "<domain/>"), "<domain/>");
});

Deno.test("planHost: a filter to create, one of the range's to keep, someone else's is a conflict", () => {
  const range = validateRange(base([{ from: "red", to: "web", allow: ["tcp/80"] }]));
  const survey = (nwfilters: string[], recorded: string[]) => ({
    networks: new Map(),
    pool: { exists: true, active: true },
    volumes: new Set<string>(),
    domains: new Map(),
    recordNameTaken: false,
    nwfilters: new Set(nwfilters),
    record: {
      range: "fw",
      host: "h1",
      uuid: "u",
      entries: recorded.map((name) => ({ kind: "nwfilter" as const, name, state: "created" as const })),
    },
  });
  const action = (s: ReturnType<typeof survey>) =>
    planHost(range, "h1", "qemu:///system", s).filter((i) => i.kind === "nwfilter").map((i) => i.action);
  assert.deepEqual(action(survey([], [])), ["create"]);
  assert.deepEqual(action(survey(["fw.fw.web"], ["fw.fw.web"])), ["keep"]);
  assert.deepEqual(action(survey(["fw.fw.web"], [])), ["conflict"]);
});

Deno.test("the ownership record carries nwfilter entries", () => {
  const record = {
    range: "fw",
    host: "h1",
    uuid: "6695eb01-f6a4-8304-79aa-97f2502e193f",
    entries: [{ kind: "nwfilter" as const, name: "fw.fw.web", state: "created" as const }],
  };
  const xml = recordXml(record);
  assert.match(xml, /<rec:nwfilter name='fw\.fw\.web' state='created'\/>/);
  assert.deepEqual(parseRecord(xml, "fw"), record);
});
