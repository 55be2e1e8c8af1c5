// Who wraps a returned libvirt pointer: each object module registers a factory for its C type
// (virDomainPtr, virNetworkPtr, ...) when it loads, so that generated methods can return handles of
// classes they cannot import without a cycle. No imports: any module may depend on this one.

/** Wraps a pointer libvirt just returned (the caller owns one reference on it). */
export type HandleFactory = (owner: object, pointer: Deno.PointerObject) => object;

const factories = new Map<string, HandleFactory>();

/** Registers the factory for a C pointer type (called once by each object module). */
export function registerHandleFactory(cType: string, factory: HandleFactory): void {
  factories.set(cType, factory);
}

/**
 * Wraps `pointer` as the class registered for `cType`. `owner` is the object the call ran on (the
 * connection, or the domain of a snapshot lookup): factories take their connection or parent from it.
 *
 * @throws {TypeError} when no module registered the type (its module was not loaded: import it)
 */
export function wrapHandle<T>(cType: string, owner: object, pointer: Deno.PointerObject): T {
  const factory = factories.get(cType);
  if (factory === undefined) {
    throw new TypeError(`Cannot wrap a ${cType}: no object class is registered for it (import its module)`);
  }
  return factory(owner, pointer) as T;
}

/**
 * The connection of the object a call ran on: the object itself when it is a connection, else its
 * `connection` (every handle has one). Typed loosely on purpose: this module imports nothing.
 */
export function connectionOf<C>(owner: object): C {
  return ("connection" in owner ? (owner as { connection: C }).connection : owner) as C;
}
