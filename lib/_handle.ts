// The lifecycle every libvirt object handle shares (domains, networks, storage pools and volumes):
// owned by its connection (freed at the latest when the connection closes), freed once, readable
// name after the free, and one call gate that checks the handle inside the connection's lock and
// counts the asynchronous calls in flight on it, so that a free() meanwhile cannot pull the pointer
// from under a call running on Deno's thread pool: the handle reads as freed at once, the real
// virXxxFree runs when the last such call has returned. (It used to take a libvirt reference around
// every call instead, virXxxRef + virXxxFree: two more FFI calls per call, 0.7 µs of the main thread
// uncontended, more while the pool's threads touch the same objects.) The connection is named through
// the registry of lib/objects/_types.ts (`ObjectClasses["Connection"]`, the Connection class):
// lib/connection.ts sits above this module, so importing it would close an import cycle.
import {
  type CallSubject,
  type ConnectionInternals,
  kAdmit,
  kInternals,
  kOperation,
  kSettle,
} from "./_internals.ts";
import type { ObjectClasses } from "./objects/_types.ts";
import { ConnectionLostError, LibvirtError, libvirtErrorFrom } from "./errors.ts";
import { readCString } from "./ffi/c.ts";
import type { HeldArgument } from "./ffi/marshal.ts";

/** What differs between handle types: their C functions and how messages name them. */
export interface HandleType {
  /** The class name, for messages about freed handles: "Domain". */
  readonly className: string;
  /** How an operation names an object: `domain "web1"`. */
  readonly noun: string;
  /** virXRef (no longer taken around calls: see {@link ObjectHandle}'s in-flight count) */
  ref(handle: Deno.PointerObject): unknown;
  /** virXFree */
  free(handle: Deno.PointerObject): unknown;
  /**
   * virXGetName (a `const char *` owned by the handle), or, for objects without a name (secrets,
   * network ports, nwfilter bindings), the string that identifies them (UUID, usage, port device).
   */
  name(handle: Deno.PointerObject): Deno.PointerValue | string;
}

/** @internal Runs an asynchronous call on the object; see {@link ObjectHandle}. */
export const kCall: unique symbol = Symbol("deno_libvirt.handle.call");
/** @internal Runs a synchronous call on the object (no reference needed: nothing can free it meanwhile). */
export const kCallSync: unique symbol = Symbol("deno_libvirt.handle.callSync");
/** @internal The raw pointer, for synchronous calls that take this object as an argument (checked, not freed). */
export const kPointer: unique symbol = Symbol("deno_libvirt.handle.pointer");
/**
 * @internal The object as an argument of another object's call, held until that call has returned
 * (lib/ffi/marshal.ts `holding`): a handle or a stream counts the call in flight, a connection takes a
 * libvirt reference.
 */
export const kHold: unique symbol = Symbol("deno_libvirt.handle.hold");
/** @internal how an operation on a handle is named in errors (defined in ./_internals.ts, for the gate). */
export { kOperation };

const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** True when a lookup key is a UUID string (with or without dashes) rather than a name. */
export function isUuid(key: string): boolean {
  return (key.length === 36 || key.length === 32) && uuidPattern.test(key);
}

/** Puts an object into an operation: "start" + `domain "x"`, or "check whether {} is active". */
export function phrase(verb: string, object: string): string {
  // a function, not a replacement string: `$&` or `$'` in a name or URI stays as written
  return verb.includes("{}") ? verb.replace("{}", () => object) : `${verb} ${object}`;
}

function identity(name: Deno.PointerValue | string): string {
  return typeof name === "string" ? name : readCString(name) ?? "";
}

/**
 * The base of every libvirt object handle. Users never construct one.
 *
 * @example
 * ```ts
 * import { Connection, type ObjectHandle } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const handles: ObjectHandle[] = [...await conn.listAllDomains(), ...await conn.listAllNetworks()];
 * for (using handle of handles) console.log(handle.name);
 * ```
 */
export abstract class ObjectHandle implements CallSubject {
  readonly #type: HandleType;
  readonly #connection: ObjectClasses["Connection"];
  readonly #internals: ConnectionInternals;
  #handle: Deno.PointerObject | null;
  #name: string | undefined;
  /** Asynchronous calls admitted on this handle and not yet returned (see {@link kCall}). */
  #inFlight = 0;
  /** The pointer free() took while calls were in flight: freed in libvirt when the last one returns. */
  #deferred: Deno.PointerObject | null = null;

  /**
   * Wraps a libvirt object pointer; subclasses call it with their object kind's description.
   *
   * @param type the object kind's class name, noun and free/ref/name calls
   * @param connection the connection the object belongs to
   * @param handle the libvirt object pointer this handle owns (one reference)
   * @param name the object's name, when already known
   */
  protected constructor(
    type: HandleType,
    connection: ObjectClasses["Connection"],
    handle: Deno.PointerObject,
    name?: string,
  ) {
    this.#type = type;
    // A handle made in a pool lease outlives the lease: it belongs to the pool connection's shared
    // view (calls serialized with the next holder's on the same gate; no close), not to the lease.
    const owner = connection[kInternals].handleOwner();
    this.#connection = owner;
    this.#internals = owner[kInternals];
    this.#handle = handle;
    this.#name = name;
    this.#internals.track(this);
  }

  /** The object's name (read from the handle once, locally; still readable after {@link free}). */
  get name(): string {
    return this.#name ??= identity(this.#type.name(this[kPointer]("read the name of")));
  }

  /** The connection this handle belongs to. */
  get connection(): ObjectClasses["Connection"] {
    return this.#connection;
  }

  /** True once freed. */
  get freed(): boolean {
    return this.#handle === null;
  }

  /**
   * Frees the handle (not the object it names). Idempotent. While an asynchronous call on it is in
   * flight the handle reads as freed at once and libvirt's reference is dropped when that call returns.
   */
  free(): void {
    const handle = this.#handle;
    if (handle === null) return;
    this.#name ??= identity(this.#type.name(handle)); // identity stays readable
    this.#handle = null;
    this.#internals.release(this);
    if (this.#inFlight > 0) this.#deferred = handle;
    else this.#type.free(handle);
  }

  /** Frees the handle (`using x = await lookup...(...)`). */
  [Symbol.dispose](): void {
    this.free();
  }

  /** How `console.log` and `Deno.inspect` show the handle: its class and name, and whether it is freed. */
  [Symbol.for("Deno.customInspect")](): string {
    return `${this.#type.className} { name: ${JSON.stringify(this.freed ? this.#name : this.name)}${
      this.freed ? ", freed" : ""
    } }`;
  }

  /** @internal the pointer, or a TypeError "Cannot <verb> freed Domain "x"" */
  [kPointer](verb: string): Deno.PointerObject {
    if (this.#handle === null) throw this.#freedError(verb);
    return this.#handle;
  }

  /** "Cannot <verb> freed Domain "x"" */
  #freedError(verb: string): TypeError {
    const name = this.#name === undefined ? "" : ` ${JSON.stringify(this.#name)}`;
    return new TypeError(`Cannot ${phrase(verb, `freed ${this.#type.className}${name}`)}`);
  }

  /** @internal how an operation on this object is named in errors: "start" -> `start domain "web1"` */
  [kOperation](verb: string): string {
    return phrase(verb, `${this.#type.noun} ${JSON.stringify(this.name)}`);
  }

  /**
   * @internal one asynchronous call on this object, alone on its connection. Counted in flight from
   * the moment the gate admits it ({@link kAdmit}: it holds the connection's lock and the handle is
   * still open) until its C call has returned ({@link kSettle}): a free() meanwhile defers libvirt's
   * free until then, so the pointer `run` passed to C stays valid. A call still queued holds nothing,
   * so a close ahead of it frees the handle at once (and the call is then refused, in the lock). The
   * gate gets the handle itself (ConnectionInternals.callOn), not closures: nothing is allocated
   * per call here, and the operation's words are built only for an error.
   */
  [kCall]<T, U = T>(
    verb: string,
    run: (handle: Deno.PointerObject) => T | Promise<T>,
    failed: (result: T) => boolean,
    wrap?: (result: T) => U,
  ): Promise<U> {
    // fail fast, before queueing for the connection: a rejection, so that callers need not be async
    if (this.#handle === null) return Promise.reject(this.#freedError(verb));
    return this.#internals.callOn(this, verb, run, failed, wrap);
  }

  /** @internal The gate admits a call of {@link kCall}: the pointer (freed while queued: refused here, in the lock). */
  [kAdmit](verb: string): Deno.PointerObject {
    const handle = this[kPointer](verb);
    this.#inFlight++;
    return handle;
  }

  /** @internal Ends one admitted call of {@link kCall}: the last one to return drops a deferred free. */
  [kSettle](): void {
    if (--this.#inFlight > 0 || this.#deferred === null) return;
    const handle = this.#deferred;
    this.#deferred = null;
    this.#type.free(handle);
  }

  /**
   * @internal this object passed to a call on another object ({@link kHold}): counted in flight like a
   * call of its own, so a free() meanwhile defers libvirt's free until {@link HeldArgument.release}.
   */
  [kHold](verb: string): HeldArgument {
    const pointer = this[kAdmit](verb);
    let held = true;
    return {
      pointer,
      release: () => {
        if (held) this[kSettle]();
        held = false;
      },
    };
  }

  /** @internal one synchronous call on this object */
  [kCallSync]<T, U = T>(
    verb: string,
    run: (handle: Deno.PointerObject) => T,
    failed: (result: T) => boolean,
    wrap?: (result: T) => U,
  ): U {
    const handle = this[kPointer](verb);
    return this.#internals.callSync(
      () => phrase(verb, `${this.#type.noun} ${JSON.stringify(this.name)}`),
      () => run(handle),
      failed,
      wrap,
    );
  }
}

const gateRefusal = /^Cannot call vir\w+ on (?:[\w ]+ )?"(?:[^"\\]|\\.)*": ([\s\S]*)$/;

/**
 * @internal An operation's error in the operation's words: a one-call method reports
 * `call virDomainCreateWithFlags on domain "web1"`; the orchestration above it (`startDomain`) says
 * `start domain "web1"`. libvirt's code, subsystem, level and message are kept, the class is the most
 * specific for the code (as for every call), the original error is the `cause`. Anything that is not a
 * {@link LibvirtError} (TypeError for a freed handle or a bad argument, an abort reason) is returned as is.
 */
export function reattribute(error: unknown, operation: string): unknown {
  if (error instanceof TypeError) {
    // the gate's refusals ("the connection is closed", a released lease) in the method's words
    const refusal = gateRefusal.exec(error.message);
    return refusal === null ? error : new TypeError(`Cannot ${operation}: ${refusal[1]}`, { cause: error });
  }
  if (!(error instanceof LibvirtError) || error.operation === operation) return error;
  const details = {
    code: error.code,
    domain: error.domain,
    level: error.level,
    message: error.libvirtMessage,
  };
  if (error instanceof ConnectionLostError) {
    return new ConnectionLostError(operation, details, {
      cause: error,
      outcomeUnknown: error.outcomeUnknown,
    });
  }
  const attributed = libvirtErrorFrom(operation, details);
  Object.defineProperty(attributed, "cause", { value: error, configurable: true, writable: true });
  return attributed;
}

/**
 * @internal Runs `run` (one-call methods of `handle`) as one operation named `verb`: a freed handle is
 * refused with "Cannot <verb> freed Network "x"" before anything runs, and a libvirt failure is
 * reported as "Cannot <verb> network "x": ..." ({@link reattribute}). Not async, and a `verb` given as
 * a function is built only for an error: a call that succeeds pays one `.catch` and no words.
 *
 * @param handle the object the operation acts on
 * @param verb the operation, e.g. "start" or "check whether {} is active", or a function that says it
 * @param run the calls
 * @returns what `run` returns
 */
export function asOperation<T>(
  handle: ObjectHandle,
  verb: string | (() => string),
  run: () => Promise<T>,
): Promise<T> {
  const words = typeof verb === "string" ? () => verb : verb;
  const fail = (error: unknown): unknown => {
    if (handle.freed && error instanceof TypeError) {
      try {
        handle[kPointer](words()); // freed meanwhile: say so in our words
      } catch (freed) {
        return freed;
      }
    }
    return reattribute(error, handle[kOperation](words()));
  };
  if (handle.freed) {
    try {
      handle[kPointer](words());
    } catch (error) {
      return Promise.reject(error);
    }
  }
  let pending: Promise<T>;
  try {
    pending = run();
  } catch (error) {
    return Promise.reject(fail(error));
  }
  return pending.then(undefined, (error) => Promise.reject(fail(error)));
}

/** {@link asOperation} for synchronous calls. */
export function asOperationSync<T>(handle: ObjectHandle, verb: string, run: () => T): T {
  handle[kPointer](verb);
  try {
    return run();
  } catch (error) {
    throw reattribute(error, handle[kOperation](verb));
  }
}
