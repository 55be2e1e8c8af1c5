// Consoles on the lab's real TCG guests (qemu:///system in netns dlvlab): range up captures every
// guest's serial console from the first byte (the boot's "LAB: ..." lines are in the log); a guest on
// a network without DHCP fails the address wait with its console's tail in the explanation; a second
// up attaches to the running guests and keeps capturing; `range.ts console` with piped stdin runs a
// command in the guest's shell and sees its output, is refused while the range holds the console,
// and takes it over with --force (the range's capture then ends and says so).
//
// The lab image has no shell on its console, so the shell guest boots the lab's initramfs with a
// small cpio appended (the kernel unpacks both; the later /etc/inittab wins) that adds
// `ttyS0::respawn:-/bin/sh`. The shared image is not changed.
//
// Run: flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//        deno test --allow-all tests/integration/console_test.ts
import assert from "node:assert/strict";
import { captureStream, Connection, isConsoleBusy, lookupDomain, PoolRegistry } from "../../mod.ts";
import { AddressTimeoutError } from "../../lib/ip/wait.ts";
import { validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { RangeOperationError } from "../../lib/range/types.ts";
import { upRange } from "../../lib/range/up.ts";
import { denoChildArgs } from "../_helpers.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

const REPO = new URL("../../", import.meta.url).pathname;

async function sh(script: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", script],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) throw new Error(`${script}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** The lab's initramfs plus an appended cpio whose /etc/inittab adds a shell on ttyS0. */
async function shellInitrd(dir: string): Promise<string> {
  const base = lab().guest.initrd;
  await sh(`
    mkdir -p '${dir}/overlay/etc'
    zcat '${base}' | (cd '${dir}/overlay' && cpio -i --quiet --to-stdout etc/inittab) > '${dir}/overlay/etc/inittab'
    grep -q sysinit '${dir}/overlay/etc/inittab'
    echo 'ttyS0::respawn:-/bin/sh' >> '${dir}/overlay/etc/inittab'
    (cd '${dir}/overlay' && find etc | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) > '${dir}/overlay.gz'
    cat '${base}' '${dir}/overlay.gz' > '${dir}/initramfs-shell.gz'
  `);
  return `${dir}/initramfs-shell.gz`;
}

/** range.ts console with `input` on stdin. */
async function attach(file: string, guest: string, input: string, ...flags: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoChildArgs("run", "-A", `${REPO}scripts/range.ts`, "console", file, guest, ...flags),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * range.ts console on a terminal (a pty from util-linux `script`), comparing `stty -g` before and
 * after. `drive` gets the pty's output so far and the pid of the deno process, and returns the bytes
 * to type next ("" to wait for more output, null when done typing).
 */
async function attachOnTerminal(
  file: string,
  guest: string,
  drive: (output: string, pid: number | undefined) => string | null | Promise<string | null>,
): Promise<string> {
  const inner = `${file}.attach.sh`;
  await Deno.writeTextFile(
    inner,
    `echo PID=$$\nexec '${Deno.execPath()}' ${
      denoChildArgs("run", "-A", `${REPO}scripts/range.ts`, "console", file, guest).map((a) => `'${a}'`).join(
        " ",
      )
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
  const writer = child.stdin.getWriter();
  let output = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let typing = true;
  for (;;) {
    if (typing) {
      const pid = Number(/PID=(\d+)/.exec(output)?.[1]) || undefined;
      const next = await drive(output, pid);
      if (next === null) typing = false;
      else if (next) await writer.write(new TextEncoder().encode(next));
    }
    const { done, value } = await reader.read();
    if (done) break;
    output += value;
    if (/TERMINAL-(RESTORED|CHANGED)/.test(output)) break;
  }
  await writer.close().catch(() => {});
  await reader.cancel().catch(() => {});
  await child.status;
  await child.stderr.cancel();
  return output;
}

Deno.test("lab consoles: range up logs each boot, explains a guest without address, range.ts console attaches", async () => {
  await requireLabNamespace();
  const l = lab();
  const tag = crypto.randomUUID().slice(0, 4);
  const name = `c3cons-${tag}`;
  const work = `/var/lib/deno_libvirt_lab/${name}`; // QEMU (root) reads the initrd from here
  await Deno.mkdir(work, { recursive: true });
  const octet = 160 + Math.floor(Math.random() * 40) * 2;
  const guestOf = (id: string, initrd: string, network: string) => ({
    id,
    type: "qemu",
    memory: 96,
    diskMiB: 16,
    agent: false,
    kernel: {
      kernel: l.guest.kernel,
      initrd,
      cmdline: `console=ttyS0 quiet loglevel=3 labagent=0 labhost=${name}-${id}-1`,
    },
    nics: [{ network }],
  });
  const description = {
    name,
    hosts: [{ id: "h1", uri: l.uri }],
    storage: { pool: l.imagePool.name },
    networks: [
      {
        name: `${name}-nat`,
        mode: "nat",
        subnet: `10.77.${octet}.0/24`,
        dhcp: { start: `10.77.${octet}.100`, end: `10.77.${octet}.200` },
      },
      { name: `${name}-nodhcp`, mode: "isolated", subnet: `10.77.${octet + 1}.0/24` },
    ],
    guests: [
      guestOf("shell", await shellInitrd(work), `${name}-nat`),
      guestOf("nodhcp", l.guest.initrd, `${name}-nodhcp`),
    ],
  };
  const range = validateRange(description);
  const file = `${work}/range.json`;
  await Deno.writeTextFile(file, JSON.stringify(description));
  const dir = `${work}/consoles`;
  const shell = `${name}-shell-1`;
  const nodhcp = `${name}-nodhcp-1`;
  await using pools = new PoolRegistry();
  try {
    // 1. up: both boots are logged from the first byte; the guest without DHCP times out, and the
    //    explanation carries what its console said
    const t0 = performance.now();
    const failure = await upRange(range, pools, {
      consoles: { dir },
      addressTimeoutMs: 40_000, // long enough for both boots under load; the no-DHCP guest times out
      concurrency: 2,
    })
      .then(() => undefined, (e: unknown) => e);
    console.log(`up with one guest never addressed: ${Math.round(performance.now() - t0)} ms`);
    assert.ok(failure instanceof RangeOperationError, `up failed as it should: ${failure}`);
    const timeout = failure.errors.find((e) => e instanceof AddressTimeoutError) as AddressTimeoutError;
    assert.ok(timeout, `an address timeout among ${failure.errors.map((e) => e.message)}`);
    assert.match(timeout.message, new RegExp(`of domain "${nodhcp}"`));
    assert.match(timeout.message, /\n {2}console, last lines:\n/);
    assert.match(timeout.message, new RegExp(`\\n {4}\\| LAB: modules loaded host=${nodhcp}`));
    assert.match(timeout.consoleTail!, new RegExp(`LAB: ready host=${nodhcp}`));
    assert.doesNotMatch(timeout.consoleTail!, /LAB: dhcp bound/);
    assert.ok(
      !(failure.message + timeout.message).includes("\x1b"),
      "no escape sequences in the explanation",
    );
    console.log(
      `the explanation's console part:\n${timeout.message.slice(timeout.message.indexOf("  console"))}`,
    );

    const shellLog = await Deno.readTextFile(`${dir}/${shell}.log`);
    assert.match(
      shellLog,
      /^\n\[capture of the console of domain "[^"]+" started [^:]+:\d\d:\d\d\.\d+Z: from boot/,
    );
    const first = shellLog.indexOf("LAB: ");
    assert.ok(
      shellLog.slice(first).startsWith(`LAB: modules loaded host=${shell}`),
      "the first LAB line is in the log",
    );
    assert.match(shellLog, new RegExp(`LAB: dhcp bound ifc=eth0 ip=10\\.77\\.${octet}\\.\\d+`));
    assert.match(shellLog, new RegExp(`LAB: ready host=${shell}`));
    assert.match(shellLog, /\[capture ended [^\]]+: closed\]\n$/);
    assert.match(await Deno.readTextFile(`${dir}/${nodhcp}.log`), new RegExp(`LAB: ready host=${nodhcp}`));
    console.log(`shell guest's log: ${shellLog.length} bytes`);

    // 2. the shell answers: a console stream of our own, a capture on its output, commands on its input
    {
      await using conn = await Connection.open(l.uri);
      using dom = await lookupDomain(conn, shell);
      const stream = await dom.openConsole();
      const capture = await captureStream(stream, { ownsStream: true });
      const writer = stream.writable.getWriter();
      let answered = false;
      const answer = capture.waitFor("READY-2", { timeoutMs: 120_000 }).finally(() => answered = true);
      // the shell starts once the boot script ended; until then a line is lost: ask again each 2 s
      while (!answered) {
        await writer.write(new TextEncoder().encode("echo READY-$((1+1))\n"));
        await Promise.race([answer, new Promise((r) => setTimeout(r, 2_000))]);
      }
      await answer;
      writer.releaseLock();
      await capture.close();
    }

    // 3. a second up keeps everything and attaches to the running guests (their boot is not in
    //    this capture), and with keepOpen the captures outlive the call
    const again = await upRange(range, pools, { consoles: { dir, keepOpen: true }, waitForAddresses: false });
    assert.deepEqual(again.created, []);
    console.log(
      `second up (attach to 2 running guests, no address wait): ${again.tookMs} ms ${
        JSON.stringify(again.timingsMs)
      }`,
    );
    await using consoles = again.consoleCapture!;
    assert.deepEqual(
      again.consoles.map((c) => [c.name, c.status, c.fromBoot, c.path]),
      [[shell, "captured", false, `${dir}/${shell}.log`], [
        nodhcp,
        "captured",
        false,
        `${dir}/${nodhcp}.log`,
      ]],
    );
    const held = consoles.get(shell)!;
    assert.equal(held.state, "capturing");

    // 4. the range holds the console: attach is refused (never steals it by default)
    const busy = await attach(file, shell, "echo no\n");
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(
      busy.stderr,
      /cannot attach to the console of .*: another session has it .*--force takes it over/,
    );

    // 5. --force takes it over: a command runs in the guest's shell and its output comes back; the
    //    range's capture ends and says why
    const forced = await attach(file, "shell-1", "echo C3-$((6*7))\n", "--force", "--until", "C3-42");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /C3-42/);
    assert.match(forced.stderr, /\[range console c3cons-[^ ]+: matched --until; sent 17 bytes\]/);
    const reason = await held.ended;
    assert.equal(held.state, "ended");
    assert.match(reason, /the console (ended|failed)/);
    console.log(`the range's capture after a forced attach: ${reason}`);
    assert.equal(consoles.summary().find((c) => c.name === shell)?.reason, reason);
    assert.match(
      await Deno.readTextFile(`${dir}/${shell}.log`),
      /attached to a running guest: its boot is not in this log/,
    );

    // 6. the console is free again after the forced session detached: a plain attach works, and
    //    piped input that ends detaches once the console is quiet
    const plain = await attach(file, shell, "echo again-$((2+3))\n", "--linger", "5000");
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /again-5/);
    assert.match(plain.stderr, /input ended/);

    // 7. on a terminal: raw mode (Enter is a CR, the guest's tty makes it a newline), Ctrl-]
    //    detaches, and the terminal's settings are as before; SIGTERM while attached restores them too
    let typed = 0;
    const viaEscape = await attachOnTerminal(file, shell, (out) => {
      if (typed === 0 && /escape character is \^\]/.test(out)) return typed = 1, "echo TTY-$((3*3))\r";
      if (typed === 1 && /TTY-9/.test(out)) return typed = 2, "\x1d";
      return typed === 2 ? null : "";
    });
    assert.match(viaEscape, /TTY-9/);
    assert.match(viaEscape, /detached \(\^\]\)/);
    assert.match(viaEscape, /EXIT=0/);
    assert.match(viaEscape, /TERMINAL-RESTORED/, viaEscape);
    let killed = false;
    const viaSignal = await attachOnTerminal(file, shell, (out, pid) => {
      if (!killed && pid && /escape character is/.test(out)) {
        killed = true;
        Deno.kill(pid, "SIGTERM"); // the deno process this test started (sh exec'd into it)
        return null;
      }
      return killed ? null : "";
    });
    assert.match(viaSignal, /\[range console: SIGTERM\]/);
    assert.match(viaSignal, /EXIT=143/);
    assert.match(viaSignal, /TERMINAL-RESTORED/, viaSignal);

    // a capture holding a console makes an open without force fail as "busy"
    {
      await using conn = await Connection.open(l.uri);
      using dom = await lookupDomain(conn, nodhcp);
      await assert.rejects(() => dom.openConsole(), (e: unknown) => isConsoleBusy(e));
    }
    await consoles.close();
    assert.equal(consoles.get(nodhcp)!.state, "closed");
  } finally {
    await downRange(range, pools).catch((e) => console.error(`down failed: ${e}`));
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});
