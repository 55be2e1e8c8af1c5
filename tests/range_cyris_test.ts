// CyRIS import (issue 14): tasks carried into the description, every field translated or noted with
// its value, and every mistake an error at the CyRIS file's own line and column.
import assert from "node:assert/strict";
import { cyrisToRange } from "../lib/range/cyris.ts";
import { PoolRegistry } from "../mod.ts";
import { parseRangeDescription, RangeDescriptionError } from "../lib/range/description.ts";
import { ansibleIni } from "../lib/range/inventory.ts";
import { rangeStatus } from "../lib/range/status.ts";

// after CyRIS's examples/full.yml (shortened): two base images with tasks, a firewall, two instances
const FULL = `
- host_settings:
  - id: host_1
    mgmt_addr: localhost
    virbr_addr: 192.168.122.1
    account: cyuser

- guest_settings:
  - id: desktop
    ip_addr: 192.168.122.50
    basevm_host: host_1
    basevm_config_file: /home/cyuser/images/basevm_desktop.xml
    basevm_type: kvm
    basevm_os_type: ubuntu_20
    tasks:
    - add_account:
      - account: daniel
        passwd: theAnswer
        full_name: Daniel Radcliffe
    - modify_account:
      - account: root
        new_passwd: abcd1234
    - install_package:
      - package_manager: yum
        name: wireshark
        version: 1.8.10
    - emulate_attack:
      - attack_type: ssh_attack
        target_account: daniel
        attempt_number: 200
    - copy_content:
      - src: /home/cyuser/database/flag.txt
        dst: /root
    - execute_program:
      - program: /root/prepare.sh
        interpreter: bash
        args: arguments
        execute_time: after_clone
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
        entry_point: yes
      - guest_id: firewall
        number: 1
        forwarding_rules:
        - rule: src=office dst=servers dport=25,53
      topology:
      - type: custom
        networks:
        - name: office
          members: desktop.eth0
          gateway: firewall.eth0
        - name: servers
          members: desktop.eth1, firewall.eth1
`;

const OPTS = { uris: { host_1: "test:///default" }, pool: "default-pool", memoryMiB: 64, source: "full.yml" };

function problems(text: string): { path: string; line?: number; column?: number; message: string }[] {
  try {
    cyrisToRange(text, OPTS);
  } catch (error) {
    assert.ok(error instanceof RangeDescriptionError, String(error));
    assert.match(error.message, /full\.yml/);
    return error.issues;
  }
  assert.fail("expected a RangeDescriptionError");
}

/** The 1-based line and column of the first `needle` at or after line `after` of `text`. */
function where(text: string, needle: string, after = 1): { line: number; column: number } {
  const lines = text.split("\n");
  for (let i = after - 1; i < lines.length; i++) {
    const col = lines[i].indexOf(needle);
    if (col >= 0) return { line: i + 1, column: col + 1 };
  }
  throw new Error(`${needle} not in text`);
}

Deno.test("cyrisToRange: tasks are carried into the description, per instance", () => {
  const { description, yaml, notes } = cyrisToRange(FULL, OPTS);
  const range = parseRangeDescription(yaml, "translated.yaml");
  assert.deepEqual(range.guests.map((g) => g.name), [
    "cyris125-i1-desktop-1",
    "cyris125-i1-desktop-2",
    "cyris125-i1-firewall-1",
    "cyris125-i2-desktop-1",
    "cyris125-i2-desktop-2",
    "cyris125-i2-firewall-1",
  ]);
  const desktop = description.guests[0];
  assert.equal(desktop.agent, true);
  assert.deepEqual(desktop.tasks, [
    { type: "addAccount", account: "daniel", password: "theAnswer", fullName: "Daniel Radcliffe" },
    { type: "modifyAccount", account: "root", newPassword: "abcd1234" },
    { type: "installPackage", name: "wireshark", version: "1.8.10", manager: "yum" },
    { type: "copyContent", src: "/home/cyuser/database/flag.txt", dst: "/root" },
    { type: "executeProgram", program: "/root/prepare.sh", interpreter: "bash", args: "arguments" },
  ]);
  assert.equal(description.guests[1].tasks, undefined, "the firewall has no tasks");
  // the gateway's NIC joins office as eth0; servers is its eth1
  assert.deepEqual(range.guests[2].nics.map((n) => n.network), ["cyris125-i1-office", "cyris125-i1-servers"]);
  assert.deepEqual(range.guests[0].nics.map((n) => n.network), ["cyris125-i1-office", "cyris125-i1-servers"]);
  const all = notes.join("\n");
  for (
    const expected of [
      /virbr_addr "192\.168\.122\.1"/,
      /account "cyuser" is not used|uri test:\/\/\/default given; mgmt_addr "localhost" and account "cyuser"/,
      /ip_addr "192\.168\.122\.50"/,
      /basevm_type "kvm"/,
      /basevm_os_type "ubuntu_20"/,
      /emulate_attack .*ssh_attack.* is not carried out/,
      /package_manager "yum" is tried first/,
      /execute_time "after_clone"/,
      /entry_point "yes": its clones are in the inventory group entry_point; .* is refused \(this range forwards no ports\)/,
      /forwarding_rules \["src=office dst=servers dport=25,53"\] are refused/,
      /gateway firewall\.eth0 is a guest/,
      /copy_content src "\/home\/cyuser\/database\/flag\.txt" is read on the machine that runs range up/,
    ]
  ) assert.match(all, expected);
  assert.ok(!all.includes("theAnswer"), "no password in the notes");
});

Deno.test("cyrisToRange: mistakes are errors at the CyRIS file's own line and column", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "instance_number: 2",
      "instance_numbr: 2",
      "instance_numbr",
      /unknown field: did you mean "instance_number"/,
    ],
    [
      "        number: 2\n        entry",
      "        number: three\n        entry",
      "three",
      /number: must be a whole number from 1 to 100000, got "three"/,
    ],
    [
      "members: desktop.eth1, firewall.eth1",
      "members: desktp.eth1, firewall.eth1",
      "desktp.eth1",
      /unknown guest "desktp".*did you mean "desktop"/,
    ],
    [
      "members: desktop.eth1, firewall.eth1",
      "members: desktop.eth3, firewall.eth1",
      "desktop.eth3",
      /desktop has 1 interface\(s\) before it here \(eth0\), so eth3/,
    ],
    ["members: desktop.eth0", "members: desktop.nic0", "desktop.nic0", /guest\.ethN/],
    [
      "basevm_os_type: ubuntu_20",
      "basevm_os_tpye: ubuntu_20",
      "basevm_os_tpye",
      /did you mean "basevm_os_type"/,
    ],
    ["    passwd: theAnswer", "    password: theAnswer", "password", /unknown field: did you mean "passwd"/],
    ["- add_account:", "- add_acount:", "add_acount", /did you mean "add_account"/],
    [
      "guest_id: firewall",
      "guest_id: firewal",
      "firewal",
      /unknown guest "firewal": did you mean "firewall"/,
    ],
    [
      "basevm_type: kvm\n    basevm_os",
      "basevm_type: aws\n    basevm_os",
      "aws",
      /basevm_type "aws" is refused/,
    ],
    ["entry_point: yes", "entry_point: maybe", "maybe", /entry_point: must be yes/],
    ["type: custom", "type: ring", "ring", /"ring" is refused: CyRIS defines only "custom"/],
    [
      "gateway: firewall.eth0",
      "gateway: fw.eth0",
      "fw.eth0",
      /names neither a guest of this host nor a host/,
    ],
    ["account: daniel", "account: 9daniel", "9daniel", /not an account name/],
    [
      "host_id: host_1\n      instance",
      "host_id: host_2\n      instance",
      "host_2",
      /unknown host "host_2": did you mean "host_1"/,
    ],
    ["- clone_settings:", "- clone_setings:", "clone_setings", /did you mean "clone_settings"/],
  ];
  for (const [from, to, needle, message] of cases) {
    assert.ok(FULL.includes(from), from);
    const text = FULL.replace(from, to);
    let found;
    try {
      found = problems(text);
    } catch (error) {
      throw new Error(`${to}: ${error}`);
    }
    const hit = found.find((i) => message.test(`${i.path}: ${i.message}`));
    assert.ok(hit, `${to}: ${JSON.stringify(found)}`);
    const expected = where(text, needle, where(text, to.split("\n")[0].trim()).line);
    assert.deepEqual({ line: hit.line, column: hit.column }, expected, `${to}: ${JSON.stringify(hit)}`);
  }
});

Deno.test("cyrisToRange: a YAML syntax error has the CyRIS line and column", () => {
  const found = problems(FULL.replace("  - id: firewall", "  - id: [firewall"));
  assert.equal(found.length, 1);
  assert.match(found[0].message, /not valid YAML/);
  assert.ok(found[0].line! >= where(FULL, "id: firewall").line, JSON.stringify(found[0]));
});

Deno.test("cyrisToRange: more than one problem is reported at once; a missing section is named", () => {
  const found = problems(
    FULL.replace("instance_number: 2", "instance_numbr: 2").replace("account: daniel", "account: 9daniel")
      .replace("members: desktop.eth1", "members: desktp.eth1"),
  );
  // the CyRIS structure first (both problems at once); the values' checks (the account) once it is sound
  assert.deepEqual(found.map((i) => i.path), [
    "[2].clone_settings[0].hosts[0].instance_numbr",
    "[2].clone_settings[0].hosts[0].topology[0].networks[1].members",
  ]);
  const none = problems("- host_settings: [{ id: h }]\n");
  assert.deepEqual(none.map((i) => i.message), [
    "has no guest_settings section",
    "has no clone_settings section",
  ]);
});

Deno.test("cyrisToRange: the range validator's findings point at the CyRIS field", () => {
  const text = FULL.replace(
    "    account: cyuser\n",
    "    account: cyuser\n  - id: host_2\n    mgmt_addr: 10.0.0.2\n",
  );
  const found = problems(text.replace("host_id: host_1\n      instance", "host_id: host_2\n      instance"));
  const hit = found.find((i) => /80 MiB/.test(i.message))!;
  assert.equal(hit.path, "[2].clone_settings[0].hosts[0].guests[0]");
  assert.deepEqual({ line: hit.line, column: hit.column }, where(text, "guest_id: desktop"));
});

Deno.test("cyrisToRange: a comma-separated host_id spreads instances round-robin", () => {
  const text = FULL.replace(
    "    account: cyuser\n",
    "    account: cyuser\n  - id: host_2\n    mgmt_addr: 10.0.0.2\n    account: ops\n",
  ).replace("host_id: host_1\n      instance", "host_id: host_1, host_2\n      instance");
  const { description } = cyrisToRange(text, { ...OPTS, memoryMiB: 96 });
  assert.deepEqual(description.hosts, [
    { id: "host_1", uri: "test:///default" },
    { id: "host_2", uri: "qemu+ssh://ops@10.0.0.2/system" },
  ]);
  assert.deepEqual([...new Set(description.guests.map((g) => `${g.id}@${g.host}`))], [
    "i1-desktop@host_1",
    "i1-firewall@host_1",
    "i2-desktop@host_2",
    "i2-firewall@host_2",
  ]);
});

Deno.test("cyrisToRange: Ansible groups per guest across instances and per instance", async () => {
  const { yaml } = cyrisToRange(FULL, OPTS);
  const range = parseRangeDescription(yaml, "translated.yaml");
  const pools = new PoolRegistry({ max: 1 });
  try {
    const status = await rangeStatus(range, pools);
    const ini = ansibleIni(status);
    const members = (group: string) =>
      ini.split(`[${group}]\n`)[1]?.split("\n\n")[0].split("\n").map((l) => l.split(" ")[0]);
    assert.deepEqual(members("desktop"), [
      "cyris125-i1-desktop-1",
      "cyris125-i1-desktop-2",
      "cyris125-i2-desktop-1",
      "cyris125-i2-desktop-2",
    ]);
    assert.deepEqual(members("instance_2"), [
      "cyris125-i2-desktop-1",
      "cyris125-i2-desktop-2",
      "cyris125-i2-firewall-1",
    ]);
    assert.deepEqual(members("i1_desktop"), ["cyris125-i1-desktop-1", "cyris125-i1-desktop-2"]);
    assert.deepEqual(members("entry_point"), [
      "cyris125-i1-desktop-1",
      "cyris125-i1-desktop-2",
      "cyris125-i2-desktop-1",
      "cyris125-i2-desktop-2",
    ]);
  } finally {
    await pools.closeAll();
  }
});

Deno.test("cyrisToRange: bounded like range descriptions (size, aliases)", () => {
  assert.match(problems("#".repeat(2 * 1024 * 1024))[0].message, /more than 1048576/);
  const bomb = "- a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
    Array.from(
      { length: 6 },
      (_, i) => `- a${i}: &a${i} [${Array(10).fill(i ? `*a${i - 1}` : "*a").join(", ")}]`,
    )
      .join("\n");
  assert.match(problems(bomb)[0].message, /not valid YAML: .*(nodes|aliases)/);
});
