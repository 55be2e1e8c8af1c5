// Graceful shutdown of a real guest from a process without libvirt's event loop: the wait falls back
// to polling the state (the guest needs seconds to power off through ACPI).
import assert from "node:assert/strict";
import { Connection, createDomain } from "../../mod.ts";
import { denoChildArgs, runDeno } from "../_helpers.ts";
import {
  consoleLease,
  destroyGuests,
  guestName,
  guestXml,
  lab,
  randomMac,
  requireLabNamespace,
  waitFor,
} from "./_lab.ts";

Deno.test("lab: shutdownDomain without events polls until the guest is off", async () => {
  await requireLabNamespace();
  const l = lab();
  const name = guestName("noevents");
  await using conn = await Connection.open(l.uri);
  (await createDomain(conn, await guestXml(name, randomMac(), l.networks.isolated.name, { agent: false })))
    .free();
  try {
    await waitFor(`${name} booted`, () => consoleLease(name), 90_000, 200);
    const fixture = new URL("../fixtures/shutdown_no_events.ts", import.meta.url).pathname;
    const { code, stdout, stderr } = await runDeno(denoChildArgs(
      "run",
      "--allow-ffi",
      "--allow-read",
      fixture,
      l.uri,
      name,
    ));
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.after, "shutoff");
    assert.equal(result.forced, false);
    assert.ok(
      result.tookMs > 500,
      `it waited for the guest (${result.tookMs} ms), the ACPI path takes seconds`,
    );
  } finally {
    await destroyGuests(l.uri, [name]);
  }
});
