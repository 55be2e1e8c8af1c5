// Event latency: from a lifecycle change on one connection to its event on a subscriber, over libvirtd
// (test+unix:///default). Needs the lab's libvirtd: run under the lab lock, inside the namespace:
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec deno bench --allow-all bench/events_bench.ts
import {
  Connection,
  createDomain,
  destroyDomain,
  domainEvents,
  resumeDomain,
  suspendDomain,
} from "../mod.ts";

const URI = "test+unix:///default";
const name = `bench-events-${crypto.randomUUID().slice(0, 8)}`;
const events = domainEvents(URI, { kinds: ["lifecycle"], domain: name });
await events.ready();
const actor = await Connection.open(URI);
const dom = await createDomain(
  actor,
  `<domain type='test'><name>${name}</name><memory>65536</memory>` +
    "<os><type>hvm</type></os></domain>",
);
const iterator = events[Symbol.asyncIterator]();
await iterator.next(); // started/booted
let paused = false;

Deno.bench("event latency: suspend or resume -> its lifecycle event", { group: "events" }, async () => {
  await (paused ? resumeDomain(dom) : suspendDomain(dom));
  paused = !paused;
  const next = await iterator.next();
  if (next.done) throw new Error("the event stream ended");
});

// the daemon is shared and the test driver knows no autodestroy: remove the domain before exiting
let cleaned = false;
globalThis.addEventListener("beforeunload", () => {
  if (cleaned) return;
  cleaned = true;
  void destroyDomain(dom, { ifNeeded: true }).finally(async () => {
    dom.free();
    await events.close();
    await actor.close();
  });
});
