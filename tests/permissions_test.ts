// The README promises that --allow-ffi is enough: in a terminal, nothing may stop at a permission prompt.
// Each script runs in a child deno on a pseudo-terminal (util-linux's `script`), where Deno would prompt,
// with stdin closed, so a prompt shows in the output (and the child then fails or hangs until the timeout).
import assert from "node:assert/strict";
import { childEnv, denoChildArgs, REPO_ROOT } from "./_helpers.ts";

async function runOnTerminal(args: string[]): Promise<{ code: number; output: string }> {
  const command = [Deno.execPath(), ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const child = new Deno.Command("timeout", {
    args: ["60", "script", "-qec", command, "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: childEnv({ NO_COLOR: "1" }),
    clearEnv: true,
  });
  const { code, stdout, stderr } = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, output: decode(stdout) + decode(stderr) };
}

const events = `
import { Connection, domainEvents, lookupDomain, suspendDomain, resumeDomain } from "${REPO_ROOT}mod.ts";
await using conn = await Connection.open("test:///default");
await using stream = domainEvents("test:///default", { kinds: ["lifecycle"] });
await stream.ready();
using dom = await lookupDomain(conn, "test");
await suspendDomain(dom);
await resumeDomain(dom);
for await (const e of stream) if (e.kind === "lifecycle") { console.log("event", e.event); break; }
`;

// [label, deno arguments, expected exit code, what the output must show]
const cases: [string, string[], number, RegExp][] = [
  ["a connection, an event stream and two lifecycle calls", ["eval", events], 0, /event/],
  ["scripts/range_demo.ts", ["run", "--allow-ffi", `${REPO_ROOT}scripts/range_demo.ts`], 0, /^down: /m],
  [
    "scripts/vm_ip.ts",
    ["run", "--allow-ffi", `${REPO_ROOT}scripts/vm_ip.ts`, "--uri", "test:///default", "test"],
    0,
    /192\.168\.122\.3/,
  ],
  // --wait subscribes to events and polls the sources: still nothing to ask
  [
    "scripts/vm_ip.ts --wait",
    [
      "run",
      "--allow-ffi",
      `${REPO_ROOT}scripts/vm_ip.ts`,
      "--uri",
      "test:///default",
      "test",
      "--wait",
      "--timeout",
      "20",
    ],
    0,
    /192\.168\.122\.3/,
  ],
  // the README's flags for range.ts: --allow-ffi --allow-read. A fresh test:/// process has none of
  // the range's guests, so status says "absent" for each and exits 1 (guests without an address).
  [
    "scripts/range.ts status (--allow-ffi --allow-read)",
    [
      "run",
      "--allow-ffi",
      "--allow-read",
      `${REPO_ROOT}scripts/range.ts`,
      "status",
      `${REPO_ROOT}examples/range_test_driver.yaml`,
    ],
    1,
    /demo-web-1\s+local\s+absent/,
  ],
];

for (const [label, args, expectedCode, shows] of cases) {
  const flags = label.includes("(--allow-ffi --allow-read)") ? "" : " with --allow-ffi alone";
  Deno.test(`permissions: ${label}${flags} asks for nothing in a terminal`, async () => {
    const [subcommand, ...rest] = args;
    const full = subcommand === "eval"
      ? denoChildArgs("eval", "--allow-ffi", ...rest)
      : denoChildArgs("run", ...rest);
    const { code, output } = await runOnTerminal(full);
    assert.doesNotMatch(output, /Deno requests|Allow\?/, output);
    assert.equal(code, expectedCode, output);
    assert.match(output, shows, output);
  });
}
