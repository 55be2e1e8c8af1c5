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

for (
  const [label, args] of [
    ["a connection, an event stream and two lifecycle calls", ["eval", events]],
    ["scripts/range_demo.ts", ["run", "--allow-ffi", `${REPO_ROOT}scripts/range_demo.ts`]],
    ["scripts/vm_ip.ts", [
      "run",
      "--allow-ffi",
      `${REPO_ROOT}scripts/vm_ip.ts`,
      "--uri",
      "test:///default",
      "test",
    ]],
  ] as const
) {
  Deno.test(`permissions: ${label} with --allow-ffi alone asks for nothing in a terminal`, async () => {
    const [subcommand, ...rest] = args;
    const full = subcommand === "eval"
      ? denoChildArgs("eval", "--allow-ffi", ...rest)
      : denoChildArgs("run", ...rest);
    const { code, output } = await runOnTerminal(full);
    assert.doesNotMatch(output, /Deno requests|Allow\?/, output);
    assert.equal(code, 0, output);
  });
}
