/**
 * Live events of domains, networks, storage pools, node devices and secrets: every event id libvirt
 * 9.0 has, each a typed member of its family's union (lib/events/types.ts).
 *
 * Events come from libvirt's event loop, which runs in a worker thread (lib/event_loop.ts). Each
 * hypervisor URI gets one dedicated event connection, shared by every stream on it (of any family) and
 * closed when the last stream closes. When that connection breaks (daemon restarted, network gone), it
 * is reopened with backoff and the subscriptions re-registered; streams then receive a `gap` event:
 * events in between may have been missed, so re-read the state you care about.
 *
 * An open stream keeps the process alive; a closed one (`break` out of `for await`, `close()`, the
 * signal aborting) lets it exit.
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, setDomainMetadata } from "@deno-libvirt/deno-libvirt";
 * import { domainEvents } from "@deno-libvirt/deno-libvirt/events";
 * await using events = domainEvents("test:///default", {
 *   kinds: ["lifecycle", "metadata-change"],
 *   signal: AbortSignal.timeout(10_000),
 * });
 * await events.ready();
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await setDomainMetadata(dom, { namespaceUri: "urn:example:notes", prefix: "notes", xml: "<note/>" }, { live: true });
 * for await (const event of events) {
 *   if (event.kind === "metadata-change") console.log(event.domain.name, event.type, event.namespace);
 *   break;
 * }
 * ```
 *
 * The module is the `./events` entry point; its parts live in lib/events/: event_stream.ts (the stream),
 * subscribe.ts (one function per family), wait.ts (waitForState), types.ts (the events), and the private
 * _hub.ts (the shared event connections), _decode.ts and _tables.ts.
 *
 * @module
 */
import type {} from "./objects/_classes.ts"; // every ObjectClasses entry, for the type checker only
export type { AnyEvent } from "./events/_decode.ts";
export type * from "./events/types.ts";
export { DomainEventStream, EventStream, type EventStreamOptions } from "./events/event_stream.ts";
export {
  type DomainEventOptions,
  domainEvents,
  type NetworkEventOptions,
  networkEvents,
  type NodeDeviceEventOptions,
  nodeDeviceEvents,
  type SecretEventOptions,
  secretEvents,
  type StoragePoolEventOptions,
  storagePoolEvents,
} from "./events/subscribe.ts";
export { waitForState, type WaitForStateOptions } from "./events/wait.ts";
