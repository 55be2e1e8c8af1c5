// A checkpoint of a domain: a point in time that incremental backups are taken relative to.
import type { HandleType } from "../_handle.ts";
import { Domain } from "./domain.ts";
import { libvirtSymbol } from "../ffi/optional.ts";
import { DomainCheckpointCalls } from "./_generated/domain_checkpoint.js";
import { registerHandleFactory } from "./_registry.ts";

const constructing = Symbol("deno_libvirt.domain_checkpoint.constructing");

const handleType: HandleType = {
  className: "DomainCheckpoint",
  noun: "checkpoint",
  ref: (h) => libvirtSymbol("virDomainCheckpointRef")(h),
  free: (h) => libvirtSymbol("virDomainCheckpointFree")(h),
  name: (h) => libvirtSymbol("virDomainCheckpointGetName")(h),
};

/**
 * A checkpoint of a domain: a point in time that incremental backups are taken relative to. Not constructible by users: get one from
 * `domain.checkpointLookupByName()`, `domain.listAllCheckpoints()` or `domain.checkpointCreateXml()`. Every method is one libvirt call (see {@link DomainCheckpointCalls}); free the handle with `using`
 * or {@link DomainCheckpoint.free} (the connection frees what is left when it closes).
 *
 * @example
 * ```ts
 * import { Connection, type DomainCheckpoint, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * const checkpoints: DomainCheckpoint[] = await dom.listAllCheckpoints().catch(() => []);
 * for (using cp of checkpoints) console.log(cp.name);
 * console.log(checkpoints.length); // 0: the test domain has no checkpoints yet
 * ```
 */
export class DomainCheckpoint extends DomainCheckpointCalls {
  readonly #domain: Domain;

  /** @internal */
  constructor(token: symbol, domain: Domain, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a DomainCheckpoint directly: use domain.checkpointLookupByName(), domain.listAllCheckpoints() or domain.checkpointCreateXml()",
      );
    }
    super(handleType, domain.connection, handle);
    this.#domain = domain;
  }

  /** The domain this checkpoint belongs to (the handle it was obtained through). */
  get domain(): Domain {
    return this.#domain;
  }
}

registerHandleFactory("virDomainCheckpointPtr", (owner, pointer) => {
  // from a domain (lookup, list, create) or from another checkpoint of it (parent, children)
  const domain = owner instanceof Domain ? owner : (owner as DomainCheckpoint).domain;
  return new DomainCheckpoint(constructing, domain, pointer);
});

// The registry entry through which the layers below name DomainCheckpoint (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    DomainCheckpoint: DomainCheckpoint;
  }
}
