// Guest tasks in the range description (validated, located errors), their report on the test driver
// (skipped, with the reason: it has no guest agent), and their export as an Ansible playbook (checked
// by ansible-playbook --syntax-check when Debian's ansible-core is installed).
import assert from "node:assert/strict";
import { PoolRegistry } from "../mod.ts";
import {
  type GuestTask,
  parseRangeDescription,
  RangeDescriptionError,
  validateRange,
} from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { jsYaml } from "../lib/_deps.ts";
import { shaCrypt, verifyShadowHash } from "../lib/range/_crypt.ts";
import { type AnsiblePlay, rangePlaybook, rangePlaybookPlays } from "../lib/range/playbook.ts";
import { describeTask, GuestTaskError, taskMarker } from "../lib/range/tasks.ts";
import { upRange } from "../lib/range/up.ts";
import { denoChildArgs, runDeno } from "./_helpers.ts";

const TASKS = `
name: tk
hosts: [{ id: h1, uri: "test:///default" }]
storage: { pool: default-pool }
guests:
  - id: desktop
    memory: 64
    agent: true
    tasks:
      - { type: addAccount, account: daniel, password: theAnswer, fullName: Daniel R }
      - { type: modifyAccount, account: root, newPassword: abcd1234 }
      - { type: copyContent, src: /srv/flag.txt, dst: /root, mode: "0600" }
      - { type: executeProgram, program: /root/setup.sh, interpreter: sh, args: "-x one" }
      - { type: installPackage, name: nmap, manager: apt-get }
`;

function issues(text: string): { path: string; line?: number; message: string }[] {
  try {
    parseRangeDescription(text, "tasks.yaml");
  } catch (error) {
    assert.ok(error instanceof RangeDescriptionError, String(error));
    return error.issues;
  }
  assert.fail("expected a RangeDescriptionError");
}

Deno.test("parseRangeDescription: guest tasks are validated and carried to each instance", () => {
  const range = parseRangeDescription(TASKS.replace("memory: 64", "memory: 64\n    count: 2"));
  assert.equal(range.guests.length, 2);
  const tasks = range.guests[1].tasks!;
  assert.deepEqual(tasks.map((t) => t.type), [
    "addAccount",
    "modifyAccount",
    "copyContent",
    "executeProgram",
    "installPackage",
  ]);
  assert.deepEqual(tasks[0], {
    type: "addAccount",
    account: "daniel",
    password: "theAnswer",
    fullName: "Daniel R",
  });
  assert.equal((tasks[2] as { mode: string }).mode, "0600");
});

Deno.test("parseRangeDescription: bad task fields are located errors with the fix", () => {
  const cases: [string, string, string, RegExp][] = [
    ["type: addAccount,", "type: addAcount,", "guests[0].tasks[0].type", /must be "addAccount" or/],
    ["password: theAnswer", "pasword: theAnswer", "guests[0].tasks[0].pasword", /did you mean "password"/],
    ["account: daniel", "account: 1daniel", "guests[0].tasks[0].account", /not an account name/],
    ['mode: "0600"', "mode: 0600", "guests[0].tasks[2].mode", /quoted octal string/],
    ['mode: "0600"', 'mode: "rw"', "guests[0].tasks[2].mode", /octal mode/],
    ["src: /srv/flag.txt", "src: flag.txt", "guests[0].tasks[2].src", /absolute path/],
    ["newPassword: abcd1234", "shell: /bin/sh", "guests[0].tasks[1].shell", /unknown field/],
    ["manager: apt-get", "manager: pacman", "guests[0].tasks[4].manager", /"apt-get" or "dnf"/],
    ["interpreter: sh", "interpreter: ba sh", "guests[0].tasks[3].interpreter", /without spaces/],
  ];
  for (const [from, to, path, message] of cases) {
    const found = issues(TASKS.replace(from, to));
    const hit = found.find((i) => i.path === path);
    assert.ok(hit, `${to}: ${JSON.stringify(found)}`);
    assert.match(hit.message, message);
    assert.equal(typeof hit.line, "number", `${to} has a line`);
    const line = TASKS.replace(from, to).split("\n")[hit.line! - 1];
    assert.ok(
      line.includes(to.split(":")[0]) || line.includes("type:"),
      `${to}: line ${hit.line} is ${line}`,
    );
  }
  assert.match(
    issues(TASKS.replace("newPassword: abcd1234", "newAccount: root2").replace("newAccount: root2", "x: 1"))
      .map((i) => i.message).join("\n"),
    /nothing to change/,
  );
  const badGroup = issues(TASKS.replace("agent: true", "agent: true\n    groups: [ok_1, bad-name]"));
  assert.equal(badGroup[0].path, "guests[0].groups[1]");
  assert.match(badGroup[0].message, /not an Ansible group name/);
  // tasks need the agent
  const noAgent = issues(TASKS.replace("agent: true", "agent: false"));
  assert.equal(noAgent[0].path, "guests[0].tasks");
  assert.match(noAgent[0].message, /set agent: true/);
});

Deno.test("describeTask: names the task, never a password", () => {
  const range = parseRangeDescription(TASKS);
  const lines = range.guests[0].tasks!.map(describeTask);
  assert.deepEqual(lines, [
    "addAccount daniel",
    "modifyAccount root (new password)",
    "copyContent /srv/flag.txt -> /root (mode 0600)",
    "executeProgram sh /root/setup.sh -x one",
    "installPackage nmap",
  ]);
  assert.ok(!lines.join(" ").includes("theAnswer") && !lines.join(" ").includes("abcd1234"));
});

Deno.test("taskMarker: a changed task gets another marker", async () => {
  const a: GuestTask = { type: "executeProgram", program: "/a.sh" };
  assert.equal(await taskMarker(a), await taskMarker({ ...a }));
  assert.notEqual(await taskMarker(a), await taskMarker({ ...a, args: "x" }));
});

Deno.test("GuestTaskError: names the guest, the task and the output", () => {
  const e = new GuestTaskError("r-desktop-1", "h1", 2, "executeProgram /x.sh", "the program failed", {
    exitCode: 3,
    output: "boom",
  });
  assert.equal(e.name, "GuestTaskError");
  assert.match(
    e.message,
    /task 3 \(executeProgram \/x\.sh\) on guest "r-desktop-1".*exit code 3, output:\nboom/s,
  );
  assert.equal(e.exitCode, 3);
});

Deno.test("upRange: on the test driver tasks are reported as skipped with the reason, twice alike", async () => {
  const name = `tk${crypto.randomUUID().slice(0, 6)}`;
  const range = validateRange({
    name,
    hosts: [{ id: "h1", uri: "test:///default" }],
    storage: { pool: "default-pool" },
    guests: [
      { id: "pc", memory: 64, count: 2, agent: true, tasks: parseRangeDescription(TASKS).guests[0].tasks },
      { id: "plain", memory: 64 },
    ],
  });
  const pools = new PoolRegistry({ max: 2 });
  const phases: string[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      const up = await upRange(range, pools, {
        waitForAddresses: false,
        onProgress: (e) => e.phase === "tasks" && e.target && phases.push(`${e.target} ${e.status}`),
      });
      assert.equal(up.tasks.length, 10, "5 tasks on each of 2 guests, none on plain");
      for (const r of up.tasks) {
        assert.equal(r.status, "skipped");
        assert.match(r.reason!, /test driver has no guest agent/);
      }
      assert.deepEqual(up.tasks.map((r) => r.guest), [
        ...Array(5).fill(`${name}-pc-1`),
        ...Array(5).fill(`${name}-pc-2`),
      ]);
    }
    assert.deepEqual(phases.sort(), [
      `${name}-pc-1 skipped`,
      `${name}-pc-1 skipped`,
      `${name}-pc-2 skipped`,
      `${name}-pc-2 skipped`,
    ]);
    const off = await upRange(range, pools, { waitForAddresses: false, tasks: false });
    assert.deepEqual(off.tasks, []);
  } finally {
    await downRange(range, pools).catch(() => {});
    await pools.closeAll();
  }
});

const ansible = (() => {
  try {
    return Deno.statSync("/usr/bin/ansible-playbook").isFile;
  } catch {
    return false;
  }
})();

Deno.test("rangePlaybook: one play per guest kind, modules that converge, values never templated", async () => {
  const range = parseRangeDescription(
    TASKS.replace("memory: 64", "memory: 64\n    count: 2").replace(
      'args: "-x one"',
      `args: "-x '{{ one }}'"`,
    ),
  );
  const text = await rangePlaybook(range);
  const plays = jsYaml.load(text) as AnsiblePlay[];
  assert.equal(plays.length, 1);
  assert.equal(plays[0].hosts, "tk-desktop-1:tk-desktop-2");
  const modules = plays[0].tasks.map((t) => Object.keys(t).find((k) => k.startsWith("ansible.builtin.")));
  assert.deepEqual(modules, [
    "ansible.builtin.user",
    "ansible.builtin.user",
    "ansible.builtin.copy",
    "ansible.builtin.shell",
    "ansible.builtin.package",
  ]);
  const user = plays[0].tasks[0]["ansible.builtin.user"] as Record<string, string>;
  assert.match(user.password, /^\{\{ 'theAnswer' \| password_hash\('sha512', '[.\/0-9A-Za-z]{16}'\) \}\}$/);
  assert.equal(user.comment, "Daniel R");
  assert.equal(text, await rangePlaybook(range), "the same salt every time: a second run changes nothing");
  const shell = plays[0].tasks[3];
  assert.match(shell["ansible.builtin.shell"] as string, /^\{% raw %\}.*'\{\{ one \}\}'.*\{% endraw %\}$/);
  const marker = await taskMarker(range.guests[0].tasks![3]);
  assert.deepEqual(shell.args, { creates: marker }, "the marker range up writes too");
  assert.deepEqual(await rangePlaybookPlays(parseRangeDescription(TASKS.replace(/ {4}tasks:[^]*$/, ""))), []);
});

Deno.test({
  name: "rangePlaybook: ansible-playbook --syntax-check accepts it; its password hash verifies with crypt(3)",
  ignore: !ansible,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "c1-playbook-" });
    try {
      const range = parseRangeDescription(TASKS.replace('args: "-x one"', `args: "-x '{{ one }}'"`));
      await Deno.writeTextFile(`${dir}/site.yml`, await rangePlaybook(range));
      await Deno.writeTextFile(`${dir}/hosts.ini`, "[all]\ntk-desktop-1\n");
      const env = { ANSIBLE_LOCAL_TEMP: dir, ANSIBLE_HOME: dir, ANSIBLE_NOCOLOR: "1" };
      const check = await new Deno.Command("ansible-playbook", {
        args: ["-i", `${dir}/hosts.ini`, "--syntax-check", `${dir}/site.yml`],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(check.success, new TextDecoder().decode(check.stderr));
      // the hash Ansible would write, computed by Ansible, checked with this host's crypt(3)
      const user = (jsYaml.load(await rangePlaybook(range)) as AnsiblePlay[])[0].tasks[0][
        "ansible.builtin.user"
      ] as Record<string, string>;
      const out = await new Deno.Command("ansible", {
        args: ["localhost", "-i", "localhost,", "-c", "local", "-m", "debug", "-a", `msg=${user.password}`],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const hash = /"msg": "(\$6\$[^"]+)"/.exec(new TextDecoder().decode(out.stdout))?.[1];
      assert.ok(hash, new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr));
      const crypt = await new Deno.Command("python3", {
        args: [
          "-W",
          "ignore",
          "-c",
          "import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))",
          "theAnswer",
          hash,
        ],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(crypt.stdout).trim(), hash);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("range.ts playbook: prints the playbook of a description file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "c1-cli-" });
  try {
    await Deno.writeTextFile(`${dir}/range.yaml`, TASKS);
    const out = await runDeno(denoChildArgs(
      "run",
      "--allow-all",
      new URL("../scripts/range.ts", import.meta.url).pathname,
      "playbook",
      `${dir}/range.yaml`,
    ));
    assert.equal(out.code, 0, out.stderr);
    const text = out.stdout;
    assert.equal(text.trim(), (await rangePlaybook(parseRangeDescription(TASKS))).trim());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shaCrypt: the $5$ and $6$ hashes of glibc's crypt(3) (checked with python3's crypt)", async () => {
  const cases: [string, string][] = [
    ["theAnswer", "$6$abcdefgh"],
    ["", "$6$x"],
    ["a".repeat(100), "$5$saltsaltsaltsaltsalt"],
    ["pässwörd: with spaces", "$6$rounds=1000$s1"],
    ["x", "$5$rounds=5000$abc"],
  ];
  for (const [password, setting] of cases) {
    const out = await new Deno.Command("python3", {
      args: [
        "-W",
        "ignore",
        "-c",
        "import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))",
        password,
        setting,
      ],
      stdout: "piped",
    }).output();
    const expected = new TextDecoder().decode(out.stdout).trim();
    assert.equal(await shaCrypt(password, setting), expected, setting);
    assert.equal(await verifyShadowHash(password, expected), true);
    assert.equal(await verifyShadowHash(`${password}!`, expected), false);
  }
  assert.equal(await verifyShadowHash("x", "$y$j9T$abc$def"), undefined, "yescrypt is not computed here");
});
