// A connection as an argument of calls on other connections (a migration's destination,
// `dom.migrate3(dconn, ...)`): each such call holds a libvirt reference of its own on it
// (lib/ffi/marshal.ts holdConnection) from just before the C call until its promise settles. The holds
// are counted here so that the connection's close waits for them: closing at once made libvirt report
// the held reference as remaining, and the handle the call returns (the migrated domain) then belonged
// to a closed connection that never freed it.
import { phrase } from "../_handle.ts";
import { type HeldArgument, holdConnection } from "../ffi/marshal.ts";

/** What a hold reads of the connection (lib/connection.ts's ConnectionCore). */
interface HeldConnection {
  readonly handle: Deno.PointerObject | null;
  readonly uri: string;
  /** Set once close() was called. */
  readonly closing: Promise<unknown> | undefined;
}

/** The holds on one connection by calls on other connections, and the wait for the last release. */
export class ArgumentHolds {
  #count = 0;
  #drained: (() => void) | undefined;

  /**
   * Holds `connection` for a call on another connection. Refused (a TypeError naming the argument
   * and the fix) once it is closed or closing.
   */
  hold(connection: HeldConnection, verb: string): HeldArgument {
    if (connection.closing !== undefined && connection.handle !== null) {
      throw new TypeError(
        `Cannot ${
          phrase(verb, `a closing Connection to ${JSON.stringify(connection.uri)}`)
        }: close() was called on it; pass an open Connection`,
      );
    }
    const held = holdConnection(connection, verb);
    this.#count++;
    let live = true;
    return {
      pointer: held.pointer,
      release: () => {
        if (!live) return;
        live = false;
        held.release();
        if (--this.#count === 0 && this.#drained !== undefined) {
          const drained = this.#drained;
          this.#drained = undefined;
          drained();
        }
      },
    };
  }

  /** closeSync's refusal while a call runs on the connection or holds it (it cannot wait), else nothing. */
  refuseSyncClose(uri: string, busy: boolean): void {
    if (busy) {
      throw new TypeError(
        `Cannot close the connection to ${JSON.stringify(uri)} synchronously: a call is in flight`,
      );
    }
    if (this.#count === 0) return;
    throw new TypeError(
      `Cannot close the connection to ${
        JSON.stringify(uri)
      } synchronously: a call on another connection holds it as an argument (a migration's destination); use close(), which waits for that call`,
    );
  }

  /**
   * Resolves once no call holds the connection, and a macrotask later: the rest of the call that
   * released it last (its result wrapped as a handle of this connection, which the close then frees
   * with the others) runs in the microtasks right after the release.
   */
  async drain(): Promise<void> {
    if (this.#count === 0) return;
    await new Promise<void>((resolve) => this.#drained = resolve);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
