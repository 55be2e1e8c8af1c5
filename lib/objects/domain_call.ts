// The one-call paths of the lifecycle functions and of the statistics (lib/domain/lifecycle.ts,
// lib/stats.ts) at the cost of that call: see callOnce in ./domain.ts (no reference pair, no
// per-call out-buffers on a `blocking: true` connection). Kept apart from ./domain.ts so that the
// object layer's modules do not import it (no new member in its import cycle).
import { kCall, kPointer, type ObjectHandle, reattribute } from "../_handle.ts";
import { kInternals } from "../_internals.ts";
import { isNegative, OutSlot, Spares } from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import { type RawStatsRecord, takeStatsRecords } from "../ffi/typed_params.ts";
import { callOnce } from "./domain.ts";
import { callGate } from "./domain_gate.ts";

/** The `virDomain*(domain, flags)` calls the lifecycle functions make (lib/domain/lifecycle.ts). */
export type DomainFlagsCall = "virDomainCreateWithFlags" | "virDomainDestroyFlags" | "virDomainUndefineFlags";

// the verbs made once, not a template string per call
const flagsCallVerbs: Record<DomainFlagsCall, string> = {
  virDomainCreateWithFlags: "call virDomainCreateWithFlags on",
  virDomainDestroyFlags: "call virDomainDestroyFlags on",
  virDomainUndefineFlags: "call virDomainUndefineFlags on",
};

/**
 * @internal `fn(domain, flags)` through {@link callOnce}: what the generated `createWithFlags`,
 * `destroyFlags` and `undefineFlags` do, with the same error wording (`call virDomainCreateWithFlags
 * on domain "web1"`), without the reference pair on a `blocking: true` connection.
 *
 * @param domain the domain
 * @param fn the C function
 * @param flags its flags, already validated
 * @returns libvirt's return value (0)
 * @throws {LibvirtError} the error libvirt reports for exactly this call
 */
export function domainFlagsCall(domain: ObjectHandle, fn: DomainFlagsCall, flags: number): Promise<number> {
  return callOnce(domain, flagsCallVerbs[fn], (h, now) => {
    const lib = libvirt().symbols;
    if (fn === "virDomainCreateWithFlags") {
      return now ? lib.virDomainCreateWithFlags(h, flags) : lib.virDomainCreateWithFlagsAsync(h, flags);
    }
    if (fn === "virDomainDestroyFlags") {
      return now ? lib.virDomainDestroyFlags(h, flags) : lib.virDomainDestroyFlagsAsync(h, flags);
    }
    return now ? lib.virDomainUndefineFlags(h, flags) : lib.virDomainUndefineFlagsAsync(h, flags);
  }, isNegative);
}

// the blocking path's buffers: the NULL-terminated domain array (grown on demand) and the list slot
let domainArray = new BigUint64Array(8);
const statsList = new BigUint64Array(1);

/**
 * @internal Statistics of `domains` in one virDomainListGetStats call, decoded, then given to `shape`
 * (while the connection is still held: one promise per call, no second step to await). On a
 * `blocking: true` connection without the reference pair per domain and without allocating the domain
 * array or the list slot per call (see {@link callOnce}); otherwise `Connection.domainListGetStats`.
 * A failure is the error of exactly this call, worded by `operation`.
 *
 * @param domains the domains, handles of one connection (at least one)
 * @param stats the `VIR_DOMAIN_STATS_*` groups (0: every group the driver supports)
 * @param flags `VIR_CONNECT_GET_ALL_DOMAINS_STATS_*` modifiers
 * @param operation how errors word the call: `get the statistics of domain "web1"`
 * @param shape turns the records (one per domain libvirt could report on) into the value
 * @returns what `shape` returns
 * @throws {TypeError} for a freed domain
 * @throws {LibvirtError} the error libvirt reports for exactly this call
 */
export function listStatsOnce<T>(
  domains: readonly (ObjectHandle & { readonly uuid: string })[],
  stats: number,
  flags: number,
  operation: () => string,
  shape: (records: RawStatsRecord[]) => T,
): Promise<T> {
  const connection = domains[0].connection;
  const gate = connection[kInternals];
  if (gate.openOptions().blocking !== true) {
    if (domains.length === 1) return oneDomainStats(domains[0], stats, flags, shape);
    return connection.domainListGetStats(domains, stats, flags).then(shape, (error) => {
      throw reattribute(error, operation());
    });
  }
  try {
    for (const d of domains) d[kPointer]("get the statistics of"); // fail fast on a freed one
  } catch (error) {
    return Promise.reject(error);
  }
  let list: Deno.PointerValue = null;
  let only: { name: string; uuid: string } | undefined;
  return callGate(
    connection,
    operation,
    () => {
      if (domainArray.length <= domains.length) domainArray = new BigUint64Array(domains.length * 2);
      for (let i = 0; i < domains.length; i++) {
        domainArray[i] = BigInt(Deno.UnsafePointer.value(domains[i][kPointer]("get the statistics of")));
      }
      domainArray[domains.length] = 0n;
      // one domain asked about: its record is its own (read here, while the handle is surely open)
      if (domains.length === 1) only = { name: domains[0].name, uuid: domains[0].uuid };
      const count = libvirt().symbols.virDomainListGetStats(domainArray, stats, statsList, flags);
      list = Deno.UnsafePointer.create(statsList[0]); // read before anything else can use the slot
      return count;
    },
    isNegative,
    (count) => shape(takeStatsRecords(list, count, only)),
  );
}

/** A one-domain call's NULL-terminated domain array and list slot, one pair per call in flight (Spares). */
interface StatsBuffers {
  readonly domains: BigUint64Array<ArrayBuffer>;
  readonly list: OutSlot;
}
const spareStatsBuffers = new Spares<StatsBuffers>(() => ({
  domains: new BigUint64Array(2),
  list: new OutSlot(),
}));

/**
 * {@link listStatsOnce} of one domain on a nonblocking connection: the domain's own gate call (kCall:
 * the handle counted in flight while C runs on Deno's thread pool, so a free() meanwhile cannot pull its
 * pointer away, without the reference pair per domain of `Connection.domainListGetStats`), reused
 * buffers, and the record named from the handle (no name and UUID reads per record). Errors say `get
 * the statistics of domain "x"`, as the operation of listStatsOnce's caller does for one domain.
 */
function oneDomainStats<T>(
  domain: ObjectHandle & { readonly uuid: string },
  stats: number,
  flags: number,
  shape: (records: RawStatsRecord[]) => T,
): Promise<T> {
  let buffers: StatsBuffers;
  let only: { name: string; uuid: string };
  return domain[kCall](
    "get the statistics of",
    (h) => {
      buffers = spareStatsBuffers.take();
      buffers.domains[0] = BigInt(Deno.UnsafePointer.value(h)); // [1] stays 0: the array's end
      only = { name: domain.name, uuid: domain.uuid }; // read while the handle is surely open
      return libvirt().symbols.virDomainListGetStatsAsync(buffers.domains, stats, buffers.list.buffer, flags);
    },
    isNegative,
    (count) => {
      const list = buffers.list.pointer;
      spareStatsBuffers.give(buffers);
      return shape(takeStatsRecords(list, count, only));
    },
  );
}
