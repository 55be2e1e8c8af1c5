// Object arguments of a C call (a clone's source volume, a console's stream, a migration's destination
// connection), held from just before the call until it has returned, so that a free() or close() of them
// meanwhile cannot free what C reads; and the refusal of an argument that is not the object it must be,
// naming the argument and what to pass. Re-exported by ./marshal.ts, where the generated methods find it.
import { A_CONNECTION, describeValue } from "../_args.ts";
import { libvirt } from "./library.ts";

function where(arg: string, fn: string): string {
  return `argument ${arg} of ${fn}`;
}

/** Anything that wraps a libvirt object pointer (the object classes, a Stream). */
export interface PointerHolder {
  [key: symbol]: unknown;
}

/**
 * An object passed as an argument to one C call, held for that call's length: a free() or close() of
 * it meanwhile cannot free what C reads (the handle counts the call in flight, or a libvirt reference
 * is taken). {@link release} gives the hold back once the call has returned.
 */
export interface HeldArgument {
  /** The pointer to pass to C. */
  readonly pointer: Deno.PointerObject;
  /** Ends the hold (a free() that came meanwhile happens now). */
  release(): void;
}

/**
 * A connection passed as an argument (a migration's destination): a libvirt reference of its own
 * (virConnectRef) until released. The release is virConnectClose, which closes for real only when the
 * owner closed meanwhile; only then does it run off the main thread (a remote close is a round trip).
 *
 * @param connection the connection's pointer (null once closed: a TypeError naming it) and URI
 * @param verb what the call does with it, for the error: "pass {} as argument dconn of virDomainMigrate3"
 *   (`{}` is where "a closed Connection to ..." goes; without it, the words go at the end)
 * @returns the hold
 */
export function holdConnection(
  connection: { readonly handle: Deno.PointerObject | null; readonly uri: string },
  verb: string,
): HeldArgument {
  const handle = connection.handle;
  if (handle === null) {
    const what = `a closed Connection to ${JSON.stringify(connection.uri)}`; // as lib/_handle.ts's phrase()
    throw new TypeError(
      `Cannot ${
        verb.includes("{}") ? verb.replace("{}", () => what) : `${verb} ${what}`
      }: pass an open Connection`,
    );
  }
  const lib = libvirt().symbols;
  lib.virConnectRef(handle);
  let held = true;
  return {
    pointer: handle,
    release: () => {
      if (!held) return;
      held = false;
      // owner open: its reference remains, so this only drops ours, here and at once (its next close
      // reports no reference left); owner closed: maybe the last one (a remote round trip): off-thread
      if (connection.handle !== null) lib.virConnectClose(handle);
      else void lib.virConnectCloseAsync(handle);
    },
  };
}

/**
 * How an object argument is held: `[value, argument name, key, nullable, expected class]` (see
 * {@link holding}); the class ("Connection", "StorageVolume") names what to pass when `value` is not one.
 */
export type HeldSpec = readonly [
  value: unknown,
  arg: string,
  key: symbol,
  nullable?: boolean,
  expected?: string,
];

/** What an object argument must be, for its refusal: `a Connection (from Connection.open() or a pool lease)`. */
function expectedObject(expected: string | undefined, key: symbol, value: unknown): string {
  if (expected === "Connection") {
    // a handle given for its connection: say where that is
    const hint = (value as { connection?: Record<symbol, unknown> } | null)?.connection?.[key] !== undefined
      ? "; a handle's own connection is its .connection"
      : "";
    return `${A_CONNECTION}${hint}`;
  }
  return expected === undefined ? "a libvirt object handle" : `a ${expected}`;
}

/** The hold of one argument: `value[key]` is a function `(verb) => HeldArgument` (handles, streams) or an object with `hold(verb)` (a connection's internals). */
function holdOne(spec: HeldSpec, fn: string): HeldArgument | null {
  const [value, arg, key, nullable, expected] = spec;
  if ((value === undefined || value === null) && nullable) return null;
  const holder = (value as PointerHolder | null)?.[key];
  // {} is where the object says what it is (`freed StorageVolume "x"`): the error names both
  const verb = `pass {} as argument ${arg} of ${fn}`;
  if (typeof holder === "function") return (holder as (verb: string) => HeldArgument).call(value, verb);
  if (typeof (holder as { hold?: unknown } | undefined)?.hold === "function") {
    return (holder as { hold(verb: string): HeldArgument }).hold(verb);
  }
  throw new TypeError(
    `Cannot call ${fn}: ${where(arg, fn)} must be ${expectedObject(expected, key, value)}, got ${
      describeValue(value)
    }`,
  );
}

/**
 * Runs one C call whose arguments include libvirt objects, each held ({@link HeldArgument}) from just
 * before the call until it has returned: for a nonblocking call, until its promise settles, since C
 * runs on Deno's thread pool while JavaScript goes on and could free the argument. Call it inside the
 * gate's run, where the call holds its connection: a freed (or closed) argument is then refused with a
 * TypeError naming it, and nothing is held when a later hold or the call itself throws.
 *
 * @param fn the C function, for messages
 * @param specs the object arguments, in order
 * @param call the C call, given the pointers (null for an absent nullable argument)
 * @returns what the call returns
 */
export function holding<T>(
  fn: string,
  specs: readonly HeldSpec[],
  call: (pointers: (Deno.PointerObject | null)[]) => T,
): T {
  const held: (HeldArgument | null)[] = [];
  const releaseAll = () => {
    for (const h of held) h?.release();
  };
  let result: T;
  try {
    for (const spec of specs) held.push(holdOne(spec, fn));
    result = call(held.map((h) => h?.pointer ?? null));
  } catch (error) {
    releaseAll();
    throw error;
  }
  if (result instanceof Promise) return result.finally(releaseAll) as T;
  releaseAll();
  return result;
}
