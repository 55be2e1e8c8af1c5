// Range descriptions, issue 9's hardening: the cases that used to be accepted and then fail half-way
// through `up` (or change the range silently), reservation MACs, bounds on size and errors, and parsing
// with no permissions. (The table of broken descriptions, expansion and CyRIS are in
// tests/range_description_test.ts; both edit the description of tests/_range_base.ts.)
import assert from "node:assert/strict";
import { Connection, listAllNetworks } from "../mod.ts";
import { parseRangeDescription, RangeDescriptionError } from "../lib/range/description.ts";
import { denoChildArgs, runDeno } from "./_helpers.ts";
import { base, refusal } from "./_range_base.ts";

// Issue 9, section 3: each of these used to be accepted and then fail half-way through `up` (or change
// the range silently). Each is now a RangeDescriptionError at parse, with the field and the line.
const reservation = (mac: string, name = "r1") => (t: string) =>
  t.replace(
    "    dhcp: { start: 10.1.0.100, end: 10.1.0.200 }\n",
    `    dhcp: { start: 10.1.0.100, end: 10.1.0.200 }\n    reservations: [{ mac: "${mac}", address: 10.1.0.50, name: "${name}" }]\n`,
  );
const lol = (() => {
  let text = 'lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n';
  for (let i = 1; i < 9; i++) text += `lol${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(", ")}]\n`;
  return text;
})();
const strict: [string, (t: string) => string, string, number, RegExp][] = [
  ["count: null", (t) => t.replace("count: 2", "count: null"), "guests[0].count", 24, /is null/],
  ["count: ~", (t) => t.replace("count: 2", "count: ~"), "guests[0].count", 24, /is null/],
  ["count: (nothing)", (t) => t.replace("count: 2", "count:"), "guests[0].count", 24, /is null/],
  ["host: null", (t) => t.replace("host: h1", "host: null"), "guests[0].host", 25, /is null/],
  [
    "hosts: []",
    (t) => t.replace("host: h1", "hosts: []"),
    "guests[0].hosts",
    25,
    /is empty: list at least one host/,
  ],
  [
    "the all-zero MAC",
    (t) => t.replace("{ network: lab-b }", '{ network: lab-b, mac: "00:00:00:00:00:00" }'),
    "guests[0].nics[1].mac",
    28,
    /all-zero MAC/,
  ],
  [
    "a MAC plus count that runs into a multicast MAC",
    (t) =>
      t.replace("count: 2", "count: 3").replace(
        "{ network: lab-b }",
        '{ network: lab-b, mac: "fc:ff:ff:ff:ff:fe" }',
      ),
    "guests[0].nics[1].mac",
    28,
    /runs to the multicast MAC fd:00:00:00:00:00/,
  ],
  [
    "a MAC plus count that wraps past the last unicast MAC",
    (t) => t.replace("{ network: lab-b }", '{ network: lab-b, mac: "fe:ff:ff:ff:ff:ff" }'),
    "guests[0].nics[1].mac",
    28,
    /runs to the multicast MAC ff:00:00:00:00:00/,
  ],
  [
    "the broadcast MAC",
    (t) => t.replace("{ network: lab-b }", '{ network: lab-b, mac: "ff:ff:ff:ff:ff:ff" }'),
    "guests[0].nics[1].mac",
    28,
    /broadcast/,
  ],
  [
    "a DHCP end on the broadcast address",
    (t) => t.replace("end: 10.1.0.200", "end: 10.1.0.255"),
    "networks[0].dhcp.end",
    13,
    /is the broadcast address of 10\.1\.0\.0\/24: end the pool at 10\.1\.0\.254/,
  ],
  [
    "a range name with a leading -",
    (t) => t.replace("name: lab\n", "name: -lab\n"),
    "name",
    1,
    /starting with a letter or digit/,
  ],
  [
    "a guest id with a leading -",
    (t) => t.replace("id: web", 'id: "-web"'),
    "guests[0].id",
    21,
    /not starting with "\.", "-" or "_"/,
  ],
  [
    "a guest id with a leading _",
    (t) => t.replace("id: web", "id: _web"),
    "guests[0].id",
    21,
    /is not a safe name/,
  ],
  [
    "a network name with a leading -",
    (t) => t.replace("name: lab-b", 'name: "-lab-b"'),
    "networks[1].name",
    14,
    /is not a safe name/,
  ],
  [
    "a reservation host name with a leading -",
    reservation("52:54:00:aa:00:01", "-x"),
    "networks[0].reservations[0].name",
    14,
    /is not a host name/,
  ],
  [
    "a reservation host name with a _",
    reservation("52:54:00:aa:00:01", "a_b"),
    "networks[0].reservations[0].name",
    14,
    /is not a host name/,
  ],
  [
    "NUL in a base image path",
    (t) => t.replace("path: /images/deb.qcow2", 'path: "/images/deb\\0.qcow2"'),
    "baseImages[0].path",
    19,
    /control character U\+0000 at position 11/,
  ],
  [
    "ESC in a pool path",
    (t) => t.replace("pool: default-pool", 'path: "/var/lib/r\\e[31m"'),
    "storage.path",
    8,
    /control character U\+001B/,
  ],
  [
    "a newline in a host URI",
    (t) => t.replace('uri: "test:///default"\n  - id: h2', 'uri: "test:///default\\n"\n  - id: h2'),
    "hosts[0].uri",
    4,
    /U\+000A/,
  ],
  [
    "NUL in a kernel path",
    (t) => t.replace("    memory: 128\n", '    memory: 128\n    kernel: { kernel: "/boot/vm\\0linuz" }\n'),
    "guests[0].kernel.kernel",
    24,
    /U\+0000/,
  ],
  [
    "a newline in an initrd path",
    (t) =>
      t.replace(
        "    memory: 128\n",
        '    memory: 128\n    kernel: { kernel: /boot/vmlinuz, initrd: "/boot/i\\nrd" }\n',
      ),
    "guests[0].kernel.initrd",
    24,
    /U\+000A/,
  ],
  [
    "NUL in a kernel command line",
    (t) =>
      t.replace(
        "    memory: 128\n",
        '    memory: 128\n    kernel: { kernel: /boot/vmlinuz, cmdline: "console=ttyS0\\0 init=/x" }\n',
      ),
    "guests[0].kernel.cmdline",
    24,
    /U\+0000/,
  ],
  [
    "a relative kernel path",
    (t) => t.replace("    memory: 128\n", "    memory: 128\n    kernel: { kernel: vmlinuz }\n"),
    "guests[0].kernel.kernel",
    24,
    /must be an absolute path/,
  ],
  [
    "a reservation MAC equal to a guest's explicit MAC",
    (t) =>
      reservation("52:54:00:aa:00:01")(t).replace(
        "{ network: lab-a, address: 10.1.0.10 }",
        '{ network: lab-a, address: 10.1.0.10, mac: "52:54:00:aa:00:01" }',
      ),
    "networks[0].reservations[0].mac",
    14,
    /is reserved here and is also the MAC of lab-web-1/,
  ],
  [
    "subnet /24/24",
    (t) => t.replace("10.2.0.0/24", "10.2.0.0/24/24"),
    "networks[1].subnet",
    16,
    /is not a subnet/,
  ],
  [
    "subnet /2.4e1",
    (t) => t.replace("10.2.0.0/24", "10.2.0.0/2.4e1"),
    "networks[1].subnet",
    16,
    /is not a subnet/,
  ],
  [
    "subnet /0x18",
    (t) => t.replace("10.2.0.0/24", "10.2.0.0/0x18"),
    "networks[1].subnet",
    16,
    /is not a subnet/,
  ],
  [
    "subnet / 24",
    (t) => t.replace("10.2.0.0/24", '"10.2.0.0/ 24"'),
    "networks[1].subnet",
    16,
    /is not a subnet/,
  ],
  [
    "subnet /024",
    (t) => t.replace("10.2.0.0/24", "10.2.0.0/024"),
    "networks[1].subnet",
    16,
    /is not a subnet/,
  ],
  [
    "subnet with a leading-zero octet",
    (t) => t.replace("10.2.0.0/24", "010.2.0.0/24"),
    "networks[1].subnet",
    16,
    /is not a subnet/,
  ],
  [
    "an address with a leading zero",
    (t) => t.replace("address: 10.1.0.10", "address: 10.1.0.010"),
    "guests[0].nics[0].address",
    27,
    /is not an IPv4 address/,
  ],
  [
    "an unresolved alias",
    (t) => t.replace("count: 2", "count: *two"),
    "",
    24,
    /alias \*two refers to no anchor/,
  ],
  ["a cyclic alias", (t) => t + "extra: &x [*x]\n", "", 29, /refers to a node that contains it/],
  [
    "a billion-laughs document",
    (t) => t + lol,
    "",
    34,
    /more than 200000 nodes once its aliases are expanded/,
  ],
  [
    "a duplicate key",
    (t) => t.replace("memory: 128", "memory: 128\n    memory: 256"),
    "",
    24,
    /duplicated mapping key/,
  ],
  ["a second document", (t) => t + "---\nname: other\n", "", 1, /more than one document/],
  ["an unknown YAML tag", (t) => t.replace("count: 2", "count: !!binary AAAA"), "", 24, /unknown scalar tag/],
  ["deep nesting", (t) => t + "deep: " + "[".repeat(40) + "]".repeat(40) + "\n", "", 29, /maxDepth/],
];

Deno.test("parseRangeDescription: issue 9's silent and half-way cases fail at parse with field and line", async () => {
  await using conn = await Connection.open("test:///default");
  const before = (await listAllNetworks(conn)).map((n) => n.name).sort();
  for (const [what, edit, path, line, pattern] of strict) {
    const { issue } = refusal(what, edit(base), path, line, pattern);
    assert.equal(typeof issue.column, "number", `${what}: column`);
  }
  assert.deepEqual((await listAllNetworks(conn)).map((n) => n.name).sort(), before);
});

Deno.test("parseRangeDescription: reservation MACs are never handed to generated NICs", () => {
  // a reservation on another network with the MAC the generator would pick first for lab-web-1's NIC 1
  const first = parseRangeDescription(base).guests[0].nics[1].mac;
  const range = parseRangeDescription(reservation(first)(base));
  assert.notEqual(range.guests[0].nics[1].mac, first);
});

const bulky = (lines: number, count: number) =>
  `name: big
hosts: [{ id: h, uri: "test:///default" }]
storage: { pool: default-pool }
guests:
${Array.from({ length: lines }, (_, i) => `  - { id: g${i}, memory: 64, count: ${count} }`).join("\n")}
`;

Deno.test("parseRangeDescription: bounds on guests, strings, size and errors, each raisable", () => {
  const failure = (text: string, options?: Parameters<typeof parseRangeDescription>[1]) => {
    try {
      parseRangeDescription(text, options);
    } catch (error) {
      assert.ok(error instanceof RangeDescriptionError, String(error));
      return error;
    }
    assert.fail("expected a RangeDescriptionError");
  };
  // 30 lines of count: 100000 no longer expand to 3,000,000 guests
  const many = failure(bulky(30, 100_000));
  assert.equal(many.issues.length, 1);
  assert.equal(many.issues[0].path, "guests[0].count");
  assert.equal(many.issues[0].line, 5);
  assert.match(many.issues[0].message, /makes 100000 guests in total, more than the limit of 1000/);
  assert.equal(parseRangeDescription(bulky(3, 500), { limits: { maxGuests: 1500 } }).guests.length, 1500);
  // a long command line
  const cmdline = "x".repeat(8 * 1024 * 1024);
  const withKernel = (text: string) =>
    text.replace("count: 1 }", `count: 1, kernel: { kernel: /k, cmdline: "${cmdline}" } }`);
  const huge = failure(withKernel(bulky(1, 1)));
  assert.match(huge.message, /more than the limit of 1048576 \(limits\.maxDocumentBytes\)/);
  const long = failure(withKernel(bulky(1, 1)), { limits: { maxDocumentBytes: 16 * 1024 * 1024 } });
  assert.equal(long.issues[0].path, "guests[0].kernel.cmdline");
  assert.match(long.issues[0].message, /is 8388608 characters long; the limit is 4096/);
  assert.ok(long.message.length < 400, `message of ${long.message.length} characters`);
  // error size: at most maxIssues problems listed, each quoted value elided
  const fields = Array.from({ length: 5000 }, (_, i) => `f${i}: 1`).join("\n");
  const noisy = failure(fields + "\n" + bulky(1, 1));
  assert.equal(noisy.issues.length, 20);
  assert.ok(noisy.omitted >= 4980, String(noisy.omitted));
  assert.match(noisy.message, /and \d+ more problems$/);
  assert.ok(noisy.message.length < 4000, `message of ${noisy.message.length} characters`);
  const quoted = failure(bulky(1, 1).replace("count: 1 }", `count: 1, host: "${"h".repeat(3000)}" }`));
  assert.match(quoted.issues[0].message, /unknown host "h{64}"… \(3000 characters\)/);
  assert.throws(() => parseRangeDescription(bulky(1, 1), { limits: { maxGuest: 5 } as never }), TypeError);
  assert.throws(() => parseRangeDescription(bulky(1, 1), { limits: { maxGuests: -1 } }), TypeError);
});

Deno.test("parseRangeDescription: parses without --allow-env and never asks for a permission", async () => {
  const output = await runDeno(
    denoChildArgs(
      "run",
      "--no-prompt",
      new URL("fixtures/hostile/parse_no_env.ts", import.meta.url).pathname,
    ),
    { stdin: "null", env: { NO_COLOR: "1", LOG_TOKENS: "1", LOG_STREAM: "1" } },
  );
  const stderr = output.stderr;
  assert.equal(output.code, 0, stderr);
  assert.deepEqual(JSON.parse(output.stdout), {
    guests: 2,
    located: "2:8",
    cyris: true,
    env: "prompt",
  });
  assert.doesNotMatch(stderr, /permission|NotCapable|env/i);
});
