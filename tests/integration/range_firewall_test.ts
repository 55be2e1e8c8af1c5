// The range firewall on real TCG guests of the lab (lib/range/firewall.ts). A range of two guests,
// attacker and web, comes up without a firewall: from inside the attacker guest (busybox nc, through
// its guest agent) ports 80 and 8080 of web both answer. The description gains the rule "from attacker
// to web allow tcp/80" and `up` runs again on the running range: the filter is defined and web's NIC
// gets the reference live, no guest restarted. Now port 80 answers and port 8080 does not; from the
// host, a source no rule names, port 8080 still answers; web keeps its DHCP lease. The CLI pulls and
// plugs the attacker's cable. `down` removes the filter with everything else.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/range_firewall_test.ts
import assert from "node:assert/strict";
import { isNotFound, lookupDomain, lookupNetwork, PoolRegistry } from "../../mod.ts";
import { validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { planRange } from "../../lib/range/plan.ts";
import { upRange } from "../../lib/range/up.ts";
import { guestShell, waitForAgent } from "./_agent.ts";
import { denoChildArgs, runDeno } from "../_helpers.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

Deno.test("range firewall added to a running range: from the attacker only port 80 of web answers, 8080 not", async () => {
  await requireLabNamespace();
  const l = lab();
  const name = `m2-exercise-fw${crypto.randomUUID().slice(0, 4)}`;
  const net = `${name}-net`;
  const web = "10.77.42.20";
  const guest = (id: string, address: string) => ({
    id,
    type: "qemu",
    memory: 96,
    agent: true,
    diskMiB: 16,
    kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
    nics: [{ network: net, address }],
  });
  const describe = (firewall: boolean) =>
    validateRange({
      name,
      hosts: [{ id: "lab", uri: l.uri }],
      storage: { pool: l.imagePool.name },
      networks: [{
        name: net,
        mode: "isolated",
        subnet: "10.77.42.0/24",
        dhcp: { start: "10.77.42.100", end: "10.77.42.200" },
      }],
      guests: [guest("attacker", "10.77.42.10"), guest("web", web)],
      ...(firewall ? { firewall: [{ from: "attacker", to: "web", allow: ["tcp/80"] }] } : {}),
    });
  const open = describe(false);
  const range = describe(true);
  const filter = `${name}.fw.web`;
  const webMac = range.guests[1].nics[0].mac;
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 300_000 });
  /** An HTTP request from inside the attacker guest; stdout holds the answer, if any. */
  const http = (port: number) =>
    pools.get(l.uri).use(async (conn) => {
      using attacker = await lookupDomain(conn, `${name}-attacker-1`);
      await waitForAgent(attacker);
      const t0 = performance.now();
      const r = await guestShell(
        attacker,
        `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 ${web} ${port}`,
        30_000,
      );
      return { ...r, ms: Math.round(performance.now() - t0) };
    });
  try {
    await upRange(open, pools, { addressTimeoutMs: 180_000 });
    for (const port of [80, 8080]) {
      const r = await http(port);
      assert.match(
        r.stdout,
        /^HTTP\/1\.[01] /,
        `without a firewall, port ${port} answers: ${JSON.stringify(r)}`,
      );
    }

    const up = await upRange(range, pools, { addressTimeoutMs: 180_000 });
    assert.ok(up.created.includes(`nwfilter "${filter}" on lab`), up.created.join("\n"));
    assert.ok(
      up.created.includes(`filter reference on NIC ${webMac} of domain "${name}-web-1" on lab`),
      up.created.join("\n"),
    );
    assert.deepEqual(up.started, [], "no guest was restarted");
    const plan = await planRange(range, pools);
    assert.deepEqual(
      plan.items.filter((i) => i.kind === "nwfilter").map((i) => [i.name, i.action]),
      [[filter, "keep"]],
    );
    await pools.get(l.uri).use(async (conn) => {
      using webDom = await lookupDomain(conn, `${name}-web-1`);
      const ref = new RegExp(`<filterref filter='${filter.replaceAll(".", "\\.")}'`);
      assert.match(await webDom.xmlDesc(), ref, "live");
      assert.match(await webDom.xmlDesc({ inactive: true }), ref, "persistent");
      using network = await lookupNetwork(conn, net);
      const lease = (await network.getDhcpLeases()).find((x) => x.mac === webMac);
      assert.equal(lease?.address, web, "web has its lease");
    });
    const p80 = await http(80);
    const p8080 = await http(8080);
    assert.match(p80.stdout, /^HTTP\/1\.[01] /, `port 80 from the attacker: ${JSON.stringify(p80)}`);
    assert.doesNotMatch(p8080.stdout, /HTTP\//, `port 8080 from the attacker: ${JSON.stringify(p8080)}`);
    // from the host (the network's gateway, 10.77.42.1): no rule names it, 8080 answers
    const fromHost = await fetch(`http://${web}:8080/`, { signal: AbortSignal.timeout(10_000) });
    await fromHost.body?.cancel();
    assert.ok(fromHost.status > 0, "port 8080 listens");

    // the CLI's exercise action on the same range: pull the attacker's cable, plug it back
    const file = await Deno.makeTempFile({ prefix: "m2-exercise-fw-", suffix: ".json" });
    try {
      await Deno.writeTextFile(file, JSON.stringify(range.description));
      for (const state of ["down", "up"]) {
        const out = await runDeno(denoChildArgs(
          "run",
          "--allow-all",
          new URL("../../scripts/range.ts", import.meta.url).pathname,
          "nic",
          file,
          "attacker-1",
          net,
          "--cable",
          state,
          "--json",
        ));
        assert.equal(out.code, 0, out.stderr);
        assert.equal(JSON.parse(out.stdout).state, state);
      }
    } finally {
      await Deno.remove(file);
    }
    console.log(
      `attacker -> web:80 answered in ${p80.ms} ms; web:8080 gave nothing (${p8080.ms} ms, nc exit ${p8080.exitCode}); ` +
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
