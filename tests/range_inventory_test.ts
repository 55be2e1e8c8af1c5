// The range's Ansible inventory read back by Ansible itself: the same groups, hosts and variables
// from the dynamic-inventory JSON (through an inventory script), the INI and the YAML, each host's
// variables written once. In-process test:///default only (no lab lock). Needs `ansible-inventory`
// (Debian's ansible-core, which .ci/install.sh installs); without it those tests are skipped, saying so.
import assert from "node:assert/strict";
import { PoolRegistry } from "../lib/pool.ts";
import { cyrisToRange } from "../lib/range/cyris.ts";
import { parseRangeDescription, type Range, validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import {
  ansibleIni,
  ansibleYaml,
  groupName,
  inventoryHost,
  inventoryJson,
  rangeInventory,
} from "../lib/range/inventory.ts";
import { type RangeStatus, rangeStatus } from "../lib/range/status.ts";
import { upRange } from "../lib/range/up.ts";
import { childEnv, denoChildArgs, REPO_ROOT, runDeno } from "./_helpers.ts";

function findAnsible(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin").split(":")) {
    try {
      const path = `${dir}/ansible-inventory`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
const ANSIBLE = findAnsible();
if (!ANSIBLE) {
  console.warn(
    "range_inventory_test: ansible-inventory not found: the tests that read the inventory with Ansible are " +
      "skipped (install Debian's ansible-core: apt-get install ansible-core)",
  );
}

/** `ansible-inventory -i FILE --list` with only `plugin` enabled, as parsed JSON. */
async function ansibleList(file: string, plugin: string, home: string): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(ANSIBLE!, {
    args: ["-i", file, "--list"],
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      // the real HOME: an inventory script that is a deno program finds its module cache there
      HOME: Deno.env.get("HOME") ?? home,
      ANSIBLE_HOME: home,
      ANSIBLE_CONFIG: `${home}/ansible.cfg`,
      ANSIBLE_LOCAL_TEMP: `${home}/tmp`,
      ANSIBLE_INVENTORY_ENABLED: plugin,
      ANSIBLE_INVENTORY_UNPARSED_FAILED: "true",
      ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: "true",
      LC_ALL: "C.UTF-8",
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `ansible-inventory -i ${file} (${plugin}) failed:\n${stderr}`);
  assert.doesNotMatch(stderr, /\[WARNING\]/, `ansible-inventory warned on ${plugin}:\n${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Lists sorted, so that the formats' group orders do not matter. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(normalize).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}

/** Writes the three formats, reads each back with Ansible, and checks they agree. */
async function readBack(status: RangeStatus): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "c2inv_" });
  try {
    await Deno.mkdir(`${dir}/home/tmp`, { recursive: true });
    await Deno.writeTextFile(`${dir}/home/ansible.cfg`, "");
    await Deno.writeTextFile(`${dir}/inventory.ini`, ansibleIni(status));
    await Deno.writeTextFile(`${dir}/inventory.yaml`, ansibleYaml(status));
    await Deno.writeTextFile(`${dir}/inventory.json`, JSON.stringify(inventoryJson(status)));
    // the dynamic-inventory shape is what an inventory script prints: the script plugin reads it
    await Deno.writeTextFile(`${dir}/inventory.sh`, `#!/bin/sh\nexec cat '${dir}/inventory.json'\n`);
    await Deno.chmod(`${dir}/inventory.sh`, 0o755);
    const ini = await ansibleList(`${dir}/inventory.ini`, "ini", `${dir}/home`);
    const yaml = await ansibleList(`${dir}/inventory.yaml`, "yaml", `${dir}/home`);
    const json = await ansibleList(`${dir}/inventory.sh`, "script", `${dir}/home`);
    assert.deepEqual(
      normalize(yaml),
      normalize(ini),
      "YAML and INI inventories differ as Ansible reads them",
    );
    assert.deepEqual(
      normalize(json),
      normalize(ini),
      "JSON and INI inventories differ as Ansible reads them",
    );
    return ini;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const bundled = new URL("../examples/range_test_driver.yaml", import.meta.url);

Deno.test({
  name: "ansibleIni/ansibleYaml/inventoryJson: Ansible reads the demo range's three inventories alike",
  ignore: !ANSIBLE,
  async fn() {
    const range = parseRangeDescription(await Deno.readTextFile(bundled), "examples/range_test_driver.yaml");
    const registry = new PoolRegistry({ max: 4 });
    const hold = await registry.get("test:///default").acquire(); // test:///default lives while a connection does
    try {
      await upRange(range, registry);
      const status = await rangeStatus(range, registry);
      const listed = await readBack(status) as Record<string, { hosts?: string[]; children?: string[] }> & {
        _meta: { hostvars: Record<string, Record<string, unknown>> };
      };
      assert.deepEqual(listed.all.children?.sort(), ["demo", "ungrouped"]);
      assert.deepEqual(listed.demo.children?.sort(), [
        "attacker",
        "db",
        "desktop",
        "host_local",
        "net_demo_dmz",
        "net_demo_lan",
        "web",
      ]);
      assert.equal(listed.desktop.hosts?.length, 16);
      assert.equal(listed.net_demo_lan.hosts?.length, 4 + 2 + 16);
      assert.equal(listed.net_demo_dmz.hosts?.length, 4 + 2);
      assert.equal(listed.host_local.hosts?.length, 24);
      // the variables Ansible reads are ours, value for value and type for type
      const model = rangeInventory(status);
      assert.deepEqual(normalize(listed._meta.hostvars), normalize(model.hostvars));
      // the inventory says what discovery knows: implausible addresses are flagged and not ansible_host
      for (const g of status.guests) {
        const vars = listed._meta.hostvars[g.name];
        assert.equal(vars.range_name, "demo");
        assert.ok(Array.isArray(vars.address_sources), JSON.stringify(vars));
        const flags = vars.address_flags as string[];
        assert.ok(flags.includes("same-origin"), `${g.name}: the test driver's sources are one answer`);
        if (flags.includes("outside-subnet")) {
          assert.equal(vars.ansible_host, undefined, `${g.name}: an implausible address is not ansible_host`);
          assert.match(String(vars.address_warning), /no plausible address/);
          assert.match(String(vars.address_explanation), /outside 10\.66\.\d\.0\/24/);
        } else {
          assert.equal(vars.ansible_host, g.address);
        }
      }
    } finally {
      await downRange(range, registry).catch(() => {});
      hold.release();
      await registry.closeAll();
    }
  },
});

/** A status with values Ansible's parsers like to reinterpret. */
function trickyStatus(): RangeStatus {
  return {
    range: "all",
    generatedAt: "2026-01-01T00:00:00.000Z",
    tookMs: 1,
    counts: { running: 1, present: 2, described: 3, withAddress: 1 },
    guests: [
      {
        name: "all-1st-1",
        guest: "1st",
        groups: ["instance_1", "True"],
        index: 1,
        host: "h-1",
        uri: "qemu+ssh://u@h/system?keyfile=/k k#x",
        state: "running",
        address: "10.0.0.5",
        confidence: 0.9,
        nics: [{
          network: "lan",
          mac: "52:54:00:00:00:01",
          planned: "10.0.0.5",
          addresses: [{
            address: "10.0.0.5",
            confidence: 0.9,
            sources: ["agent"],
            flags: [],
            explanation: `agent 0.9; it's "quoted" = 1 # not a comment`,
          }],
        }],
      },
      {
        name: "all-ungrouped-1",
        guest: "ungrouped",
        index: 1,
        host: "h-1",
        uri: "test:///default",
        state: "shutoff",
        nics: [],
      },
      {
        name: "all-None-1",
        guest: "None",
        index: 1,
        host: "1",
        uri: "test:///default",
        state: "absent",
        error: "Cannot look up: 'x'",
        nics: [],
      },
    ],
  };
}

Deno.test("rangeInventory: group names are Ansible's, and never all, ungrouped or the range's", () => {
  const inventory = rangeInventory(trickyStatus());
  assert.equal(inventory.rangeGroup, "range_all");
  assert.deepEqual(inventory.groups.map((g) => g.name), [
    "range_all",
    "_1st",
    "ungrouped_",
    "None",
    "instance_1",
    "True",
    "net_lan",
    "host_h_1",
    "host_1",
  ]);
  assert.deepEqual(inventory.groups[0].children, inventory.groups.slice(1).map((g) => g.name));
  assert.equal(groupName("demo-lan.x"), "demo_lan_x");
  assert.equal(groupName("9"), "_9");
});

Deno.test({
  name: "ansibleIni: values Ansible would reinterpret (numbers, True, quotes, #) come back unchanged",
  ignore: !ANSIBLE,
  async fn() {
    const status = trickyStatus();
    const listed = await readBack(status) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };
    assert.deepEqual(normalize(listed._meta.hostvars), normalize(rangeInventory(status).hostvars));
    assert.equal(listed._meta.hostvars["all-None-1"].range_host, "1", "a host id of digits stays a string");
    assert.equal(listed._meta.hostvars["all-1st-1"].range_index, 1);
  },
});

Deno.test("ansibleIni/ansibleYaml: each host's variables are written once", () => {
  const status = trickyStatus();
  const ini = ansibleIni(status);
  for (const g of status.guests) {
    const lines = ini.split("\n").filter((l) => l.startsWith(`${g.name} `));
    assert.equal(lines.length, 1, `${g.name}: ${lines.length} lines with variables`);
    assert.equal(
      ini.split("\n").filter((l) => l === g.name).length + 1,
      ini.split("\n").filter((l) => l.split(" ")[0] === g.name).length,
    );
  }
  assert.doesNotMatch(ini, /:vars\]/);
  const yaml = ansibleYaml(status);
  assert.equal(yaml.match(/libvirt_domain:/g)?.length, status.guests.length);
});

Deno.test("inventoryJson/inventoryHost: the dynamic-inventory shape", () => {
  const status = trickyStatus();
  const json = inventoryJson(status) as Record<string, { hosts?: string[]; children?: string[] }>;
  assert.deepEqual(json.all, { children: ["range_all"] });
  assert.deepEqual(json.instance_1, { hosts: ["all-1st-1"] });
  assert.ok("_meta" in json);
  assert.equal(inventoryHost(status, "all-1st-1").ansible_host, "10.0.0.5");
  assert.deepEqual(inventoryHost(status, "nobody"), {});
  // extra groups from the caller, and the threshold at which the best address becomes ansible_host
  const more = inventoryJson(status, { groups: { "1st": ["lab", "instance_1"] } }) as typeof json;
  assert.deepEqual(more.lab, { hosts: ["all-1st-1"] });
  assert.deepEqual(more.instance_1, { hosts: ["all-1st-1"] }, "a group named twice lists the host once");
  const strict = inventoryHost(status, "all-1st-1", { minConfidence: 0.95 });
  assert.equal(strict.ansible_host, undefined);
  assert.equal(strict.address, "10.0.0.5");
  assert.equal(strict.address_warning, "no plausible address: the best, 10.0.0.5, has confidence 0.9 < 0.95");
});

Deno.test("cyrisToRange: groups per guest across instances (desktop) and per instance reach the inventory", async () => {
  const { description } = cyrisToRange(
    `
- host_settings: [{ id: host_1, mgmt_addr: localhost, account: trainer }]
- guest_settings: [{ id: desktop, basevm_host: host_1, basevm_config_file: /images/desktop.xml, basevm_type: kvm }]
- clone_settings:
  - range_id: 7
    hosts:
    - host_id: host_1
      instance_number: 2
      guests: [{ guest_id: desktop, number: 2 }]
      topology: [{ type: custom, networks: [{ name: office, members: desktop.eth0 }] }]
`,
    { uris: { host_1: "test:///default" }, pool: "default-pool" },
  );
  const range: Range = validateRange(description);
  const registry = new PoolRegistry({ max: 2 });
  try {
    const status = await rangeStatus(range, registry, { addresses: false });
    const json = inventoryJson(status) as Record<string, { hosts?: string[] }>;
    assert.deepEqual(json.desktop.hosts, [
      "cyris7-i1-desktop-1",
      "cyris7-i1-desktop-2",
      "cyris7-i2-desktop-1",
      "cyris7-i2-desktop-2",
    ]);
    assert.deepEqual(json.instance_1.hosts, ["cyris7-i1-desktop-1", "cyris7-i1-desktop-2"]);
    assert.deepEqual(json.instance_2.hosts, ["cyris7-i2-desktop-1", "cyris7-i2-desktop-2"]);
  } finally {
    await registry.closeAll();
  }
});

Deno.test("validateRange: guest groups must be Ansible group names", () => {
  const base = {
    name: "g",
    hosts: [{ id: "local", uri: "test:///default" }],
    storage: { pool: "default-pool" },
    guests: [{ id: "pc", memory: 64, groups: ["ok_1", "1bad", "all", "a-b"] }],
  };
  assert.throws(() => validateRange(base), (e: Error) => {
    assert.match(e.message, /guests\[0\]\.groups\[1\]: "1bad" is not an Ansible group name/);
    assert.match(e.message, /guests\[0\]\.groups\[2\]: "all" is not an Ansible group name/);
    assert.match(e.message, /guests\[0\]\.groups\[3\]: "a-b" is not an Ansible group name/);
    return true;
  });
  const ok = validateRange({ ...base, guests: [{ id: "pc", memory: 64, groups: ["lab", "lab"] }] });
  assert.deepEqual(ok.guests[0].groups, ["lab"]);
});

Deno.test({
  name: "scripts/range.ts inventory: --list and --host NAME work as an Ansible inventory script",
  ignore: !ANSIBLE,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "c2inv_" });
    try {
      await Deno.mkdir(`${dir}/home/tmp`, { recursive: true });
      await Deno.writeTextFile(`${dir}/home/ansible.cfg`, "");
      const script = `${REPO_ROOT}scripts/range.ts`;
      const list = await runDeno(
        denoChildArgs("run", "--allow-ffi", "--allow-read", script, "inventory", bundled.pathname, "--list"),
      );
      // nothing is up in a fresh process: every guest is absent, yet a valid inventory: exit 0
      assert.equal(list.code, 0, list.stderr);
      const parsed = JSON.parse(list.stdout);
      assert.equal(parsed.desktop.hosts.length, 16);
      assert.equal(parsed._meta.hostvars["demo-web-1"].state, "absent");
      const host = await runDeno(
        denoChildArgs(
          "run",
          "--allow-ffi",
          "--allow-read",
          script,
          "inventory",
          bundled.pathname,
          "--host",
          "demo-db-2",
        ),
      );
      assert.deepEqual(JSON.parse(host.stdout).libvirt_domain, "demo-db-2");
      const table = await runDeno(
        denoChildArgs("run", "--allow-ffi", "--allow-read", script, "status", bundled.pathname),
      );
      assert.match(
        table.stdout,
        /^GUEST\tHOST\tSTATE\tADDRESS\tCONF\tFLAGS\tNICS\ndemo-web-1\tlocal\tabsent\t-\t-\t-\t/,
      );
      // and through Ansible's script plugin, which runs it with --list
      const wrapper = `${dir}/range_inventory`;
      const args = denoChildArgs("run", "--allow-ffi", "--allow-read", script, "inventory", bundled.pathname)
        .map((a) => `'${a.replace(/'/g, `'"'"'`)}'`).join(" ");
      const env = Object.entries(childEnv()).map(([k, v]) => `${k}='${v.replace(/'/g, `'"'"'`)}'`).join(" ");
      await Deno.writeTextFile(wrapper, `#!/bin/sh\nexec env ${env} '${Deno.execPath()}' ${args} "$@"\n`);
      await Deno.chmod(wrapper, 0o755);
      const listed = await ansibleList(wrapper, "script", `${dir}/home`) as Record<
        string,
        { hosts?: string[] }
      >;
      assert.equal(listed.desktop.hosts?.length, 16);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "ansibleIni: text with the line breaks Python also splits at (U+0085, U+2028, U+2029) stays on its line",
  ignore: !ANSIBLE,
  async fn() {
    const status = trickyStatus();
    const texts = ["a\u2028b", "c\u0085d", "e\u2029f", "tab\tand\nnewline", "é ünï 🦕 {{ x }}"];
    status.guests = texts.map((text, i) => ({
      ...status.guests[1],
      name: `all-ungrouped-${i + 1}`,
      index: i + 1,
      error: text,
    }));
    for (const line of ansibleIni(status).split("\n")) assert.doesNotMatch(line, /[\u0085\u2028\u2029]/);
    const listed = await readBack(status) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };
    texts.forEach((text, i) =>
      assert.equal(listed._meta.hostvars[`all-ungrouped-${i + 1}`].status_error, text)
    );
  },
});

Deno.test("inventoryJson: a group named _meta cannot take the place of the host variables", async () => {
  const status = trickyStatus();
  status.guests[0].groups = ["_meta"];
  const json = inventoryJson(status) as { _meta: { hostvars?: Record<string, unknown> } };
  assert.ok(json._meta.hostvars?.["all-1st-1"], JSON.stringify(json._meta));
  const inventory = rangeInventory(status);
  assert.ok(!inventory.groups.some((g) => g.name === "_meta"), "no group _meta");
  if (ANSIBLE) {
    const listed = await readBack(status) as Record<string, { hosts?: string[] }>;
    assert.deepEqual(listed._meta_?.hosts, ["all-1st-1"]);
  }
});
