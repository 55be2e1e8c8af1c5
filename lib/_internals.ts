// The key of a connection's call gate, in a module of its own: the generated method bases import it
// without importing lib/connection.ts (which extends them), so no import order can reach a base
// class before it is defined.

/** @internal The gate through which lib/ modules run calls on a connection. */
export const kInternals: unique symbol = Symbol("deno_libvirt.connection.internals");
