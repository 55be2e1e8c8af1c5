// range.ts console on a terminal: a SIGINT sent from outside (raw mode keeps Ctrl-C from making one,
// but `kill -INT`, `timeout -s INT` and process supervisors send it) restores the terminal like
// SIGTERM does. The guest is a transient diskless QEMU domain sitting in its firmware: only its
// serial console (a pty) is needed, no boot.
//
// Run: flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//        deno test --allow-all tests/integration/console_signal_test.ts
import assert from "node:assert/strict";
import { Connection, createDomain, destroyDomain } from "../../mod.ts";
import { denoChildArgs } from "../_helpers.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

const REPO = new URL("../../", import.meta.url).pathname;

Deno.test("lab range.ts console: SIGINT from outside restores the terminal and exits 130", async () => {
  await requireLabNamespace();
  const l = lab();
  const range = `r1sig${crypto.randomUUID().slice(0, 6)}`;
  const name = `${range}-pc-1`;
  const work = await Deno.makeTempDir({ prefix: "r1sig_" });
  await using conn = await Connection.open(l.uri);
  using dom = await createDomain(
    conn,
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
      <os><type arch='x86_64' machine='pc'>hvm</type></os>
      <devices><serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console></devices>
    </domain>`,
  );
  try {
    const file = `${work}/range.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        name: range,
        hosts: [{ id: "h1", uri: l.uri }],
        storage: { pool: l.imagePool.name },
        guests: [{ id: "pc", type: "qemu", memory: 96 }],
      }),
    );
    const inner = `${work}/attach.sh`;
    await Deno.writeTextFile(
      inner,
      `echo PID=$$\nexec '${Deno.execPath()}' ${
        denoChildArgs("run", "-A", `${REPO}scripts/range.ts`, "console", file, "pc-1").map((a) => `'${a}'`)
          .join(" ")
      }\n`,
    );
    const outer = `S=$(stty -g); sh '${inner}'; echo "EXIT=$?"; ` +
      `if [ "$(stty -g)" = "$S" ]; then echo TERMINAL-RESTORED; else echo TERMINAL-CHANGED; fi`;
    const child = new Deno.Command("script", {
      args: ["-qec", outer, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    let killed = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      output += value;
      const pid = Number(/PID=(\d+)/.exec(output)?.[1]) || undefined;
      if (!killed && pid && /escape character is/.test(output)) {
        killed = true;
        Deno.kill(pid, "SIGINT"); // the deno process this test started (sh exec'd into it)
      }
      if (/TERMINAL-(RESTORED|CHANGED)/.test(output)) break;
    }
    await child.stdin.close().catch(() => {});
    await reader.cancel().catch(() => {});
    await child.status;
    await child.stderr.cancel();
    assert.ok(killed, output);
    assert.match(output, /\[range console: SIGINT\]/, output);
    assert.match(output, /EXIT=130/, output);
    assert.match(output, /TERMINAL-RESTORED/, output);
  } finally {
    await destroyDomain(dom).catch(() => {});
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});
