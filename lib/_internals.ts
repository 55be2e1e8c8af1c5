// The key of a connection's call gate, in a module of its own: the generated method bases import it
// without importing lib/connection.ts (which extends them), so no import order can reach a base
// class before it is defined.

/** @internal The gate through which lib/ modules run calls on a connection. */
export const kInternals: unique symbol = Symbol("deno_libvirt.connection.internals");

/**
 * @internal What a call's owner (an object handle) gets when its call through the gate is over
 * (ConnectionInternals.call's `settled`): a method under this key, so no closure per handle.
 */
export const kSettled: unique symbol = Symbol("deno_libvirt.call.settled");

/** @internal The owner of a call through the gate, told when the call is over. */
export interface CallOwner {
  /** The call is over: its C call returned, or the gate refused it before running it. */
  [kSettled](): void;
}
