#!/usr/bin/env -S deno run --allow-ffi
/**
 * Live events on libvirt's in-process test hypervisor (`test:///default`): subscribe to domain
 * lifecycle events and network events, define/start/stop/undefine a domain and a network, print each
 * typed event as it arrives, wait for states with `waitForState` (driven by the events, no polling),
 * and close the streams so the process can exit.
 *
 *   deno run --allow-ffi examples/events.ts
 *
 * Permissions: `--allow-ffi` only.
 *
 * Prints one line per event, e.g. `domain  ex-events-1a2b3c: started (booted)` and
 * `network ex-events-1a2b3c-net: stopped`, the states `waitForState` reached (`waited: running`,
 * `waited: shutoff`), and `events: 4 domain, 4 network; streams closed`. Exit code 0; 1 when an
 * expected event did not arrive within 10 s.
 *
 * @module
 */
import {
  Connection,
  defineDomain,
  defineNetwork,
  destroyDomain,
  startDomain,
  undefineDomain,
} from "@deno-libvirt/deno-libvirt";
import {
  type DomainEvent,
  domainEvents,
  type EventStream,
  type NetworkEvent,
  networkEvents,
  waitForState,
} from "@deno-libvirt/deno-libvirt/events";

const URI = "test:///default";
const name = `ex-events-${crypto.randomUUID().slice(0, 6)}`; // unique: nothing else's events match
const netName = `${name}-net`;

// Everything ends after 10 s at the latest, even if an event never comes.
const deadline = AbortSignal.timeout(10_000);

// 1. Subscribe first, then act: a stream only sees what happens after `ready()`. The filters keep
//    other domains' and networks' events out. Each stream shares one event connection per URI.
await using domainStream = domainEvents(URI, { kinds: ["lifecycle"], domain: name, signal: deadline });
await using networkStream = networkEvents(URI, { network: netName, signal: deadline });
await Promise.all([domainStream.ready(), networkStream.ready()]);

/** Prints a domain event; `event.detail`'s type narrows with `event.event`. */
function showDomain(e: DomainEvent): void {
  if (e.kind === "gap") {
    return console.log(`domain  events may have been missed (${e.reason}): re-read state`);
  }
  if (e.kind !== "lifecycle") return console.log(`domain  ${e.domain.name}: ${e.kind}`);
  // e.g. e.event === "stopped" gives e.detail: "shutdown" | "destroyed" | "crashed" | ...
  console.log(`domain  ${e.domain.name}: ${e.event} (${e.detail}) at ${e.at.toISOString()}`);
}

/** Prints a network event. */
function showNetwork(e: NetworkEvent): void {
  if (e.kind === "gap") return console.log(`network events may have been missed (${e.reason})`);
  console.log(`network ${e.network.name}: ${e.event}`);
}

/** Reads a stream in the background until `last` arrives; resolves with the number of events. */
async function collect<E extends DomainEvent | NetworkEvent>(
  stream: EventStream<E>,
  show: (e: E) => void,
  last: (e: E) => boolean,
): Promise<number> {
  let count = 0;
  for await (const event of stream) {
    count++;
    show(event);
    if (last(event)) return count; // leaving the loop closes the stream
  }
  throw new Error("no final event before the deadline (10 s)");
}
const domainsSeen = collect(
  domainStream,
  showDomain,
  (e) => e.kind === "lifecycle" && e.event === "undefined",
);
const networksSeen = collect(
  networkStream,
  showNetwork,
  (e) => e.kind === "lifecycle" && e.event === "undefined",
);
// awaited below; if a step fails first, their rejection must not surface as an unhandled one
for (const seen of [domainsSeen, networksSeen]) seen.catch(() => {});

// 2. Act on another connection: define, start, stop, undefine.
await using conn = await Connection.open(URI);
const dom = await defineDomain(
  conn,
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
);
const net = await defineNetwork(
  conn,
  `<network><name>${netName}</name><ip address='10.72.0.1' netmask='255.255.255.0'/></network>`,
);
let exitCode = 0;
try {
  await startDomain(dom);
  // waitForState subscribes, then reads the state: it returns at once when the domain is there already
  console.log(`waited: ${await waitForState(dom, "running", { timeoutMs: 5_000 })}`);
  await net.create();
  await destroyDomain(dom);
  console.log(`waited: ${await waitForState(dom, ["shutoff", "crashed"], { timeoutMs: 5_000 })}`);
  await net.destroy();
  await undefineDomain(dom);
  await net.undefine();

  // 3. Both streams saw their last event and closed themselves.
  const [domainCount, networkCount] = await Promise.all([domainsSeen, networksSeen]);
  console.log(`events: ${domainCount} domain, ${networkCount} network; streams closed`);
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  exitCode = 1;
  // clean up whatever is left (each step may already be done)
  await destroyDomain(dom, { ifNeeded: true }).catch(() => {});
  await undefineDomain(dom).catch(() => {});
  await net.destroy().catch(() => {});
  await net.undefine().catch(() => {});
} finally {
  dom.free();
  net.free();
}
// `await using` closes both streams here (a no-op when already closed): an open stream would keep the
// process alive, a closed one lets it exit.
Deno.exitCode = exitCode;
