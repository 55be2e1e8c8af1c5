// The range firewall on real TCG guests of the lab (lib/range/firewall.ts): a rule "from attacker to
// web allow tcp/80" becomes a network filter on web's NIC. From inside the attacker guest (busybox nc,
// through its guest agent) port 80 of web answers and port 8080 does not; from the host, a source no
// rule names, port 8080 answers: both ports listen, the filter alone makes the difference. web still
// gets its DHCP lease through the filter. `down` removes the filter with everything else.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/range_firewall_test.ts
import assert from "node:assert/strict";
import { dhcpLeases, isNotFound, lookupDomain, lookupNetwork, PoolRegistry } from "../../mod.ts";
import { validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { planRange } from "../../lib/range/plan.ts";
import { upRange } from "../../lib/range/up.ts";
import { guestShell, waitForAgent } from "./_agent.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

Deno.test("range firewall: from the attacker only port 80 of web answers; 8080 does not", async () => {
  await requireLabNamespace();
  const l = lab();
  const name = `m2-exercise-fw${crypto.randomUUID().slice(0, 4)}`;
  const net = `${name}-net`;
  const guest = (id: string, address: string) => ({
    id,
    type: "qemu",
    memory: 96,
    agent: true,
    diskMiB: 16,
    kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
    nics: [{ network: net, address }],
  });
  const range = validateRange({
    name,
    hosts: [{ id: "lab", uri: l.uri }],
    storage: { pool: l.imagePool.name },
    networks: [{
      name: net,
      mode: "isolated",
      subnet: "10.77.42.0/24",
      dhcp: { start: "10.77.42.100", end: "10.77.42.200" },
    }],
    guests: [guest("attacker", "10.77.42.10"), guest("web", "10.77.42.20")],
    firewall: [{ from: "attacker", to: "web", allow: ["tcp/80"] }],
  });
  const filter = `${name}.fw.web`;
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 300_000 });
  const web = "10.77.42.20";
  try {
    const up = await upRange(range, pools, { addressTimeoutMs: 180_000 });
    assert.ok(up.created.includes(`nwfilter "${filter}" on lab`), up.created.join("\n"));
    const plan = await planRange(range, pools);
    assert.deepEqual(plan.items.filter((i) => i.kind === "nwfilter").map((i) => [i.name, i.action]), [[
      filter,
      "keep",
    ]]);

    const probe = await pools.get(l.uri).use(async (conn) => {
      using attacker = await lookupDomain(conn, `${name}-attacker-1`);
      using webDom = await lookupDomain(conn, `${name}-web-1`);
      assert.match(
        await webDom.xmlDesc(),
        new RegExp(`<filterref filter='${filter.replaceAll(".", "\\.")}'`),
      );
      using network = await lookupNetwork(conn, net);
      const lease = (await dhcpLeases(network)).find((x) => x.mac === range.guests[1].nics[0].mac);
      assert.equal(lease?.address, web, "web got its lease through the filter");
      await waitForAgent(attacker);
      const http = (port: number) =>
        guestShell(
          attacker,
          `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 ${web} ${port}`,
          30_000,
        );
      const t0 = performance.now();
      const p80 = await http(80);
      const ms80 = Math.round(performance.now() - t0);
      const t1 = performance.now();
      const p8080 = await http(8080);
      const ms8080 = Math.round(performance.now() - t1);
      return { p80, p8080, ms80, ms8080 };
    });
    assert.match(
      probe.p80.stdout,
      /^HTTP\/1\.[01] /,
      `port 80 from the attacker: ${JSON.stringify(probe.p80)}`,
    );
    assert.doesNotMatch(
      probe.p8080.stdout,
      /HTTP\//,
      `port 8080 from the attacker: ${JSON.stringify(probe.p8080)}`,
    );
    // from the host (the network's gateway, 10.77.42.1): no rule names it, 8080 answers
    const fromHost = await fetch(`http://${web}:8080/`, { signal: AbortSignal.timeout(10_000) });
    await fromHost.body?.cancel();
    assert.ok(fromHost.status > 0, "port 8080 listens");
    // the CLI's exercise action on the same range: pull the attacker's cable, plug it back
    const file = await Deno.makeTempFile({ prefix: "m2-exercise-fw-", suffix: ".json" });
    try {
      await Deno.writeTextFile(file, JSON.stringify(range.description));
      for (const state of ["down", "up"]) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-all",
            "scripts/range.ts",
            "nic",
            file,
            "attacker-1",
            net,
            "--cable",
            state,
            "--json",
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        assert.equal(JSON.parse(text).state, state);
      }
    } finally {
      await Deno.remove(file);
    }
    console.log(
      `attacker -> web:80 answered in ${probe.ms80} ms; web:8080 gave nothing (${probe.ms8080} ms, nc exit ${probe.p8080.exitCode}); ` +
        `host -> web:8080 HTTP ${fromHost.status}`,
    );
  } finally {
    await downRange(range, pools).catch((error) => console.error(`down failed: ${error}`));
    const left = await pools.get(l.uri).use(async (conn) => {
      try {
        (await conn.nwFilterLookupByName(filter)).free();
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    });
    await pools.closeAll();
    assert.equal(left, false, "down removed the filter");
  }
});
