// A secret libvirt stores (a volume passphrase, a Ceph key, ...), named by its UUID.
import type { Connection } from "../connection.ts";
import { type HandleType, kCall } from "../_handle.ts";
import * as m from "../ffi/marshal.ts";
import { libvirtSymbol } from "../ffi/optional.ts";
import { SecretCalls } from "./_generated/secret.js";
import { connectionOf, registerHandleFactory } from "./_registry.ts";

const constructing = Symbol("deno_libvirt.secret.constructing");

const handleType: HandleType = {
  className: "Secret",
  noun: "secret",
  ref: (h) => libvirtSymbol("virSecretRef")(h),
  free: (h) => libvirtSymbol("virSecretFree")(h),
  name: (h) => {
    const buffer = m.uuidBuffer();
    libvirtSymbol("virSecretGetUUIDString")(h, buffer);
    return m.uuidString(buffer);
  },
};

/**
 * A secret libvirt stores (a volume passphrase, a Ceph key, ...), named by its UUID. Not constructible by users: get one from
 * `conn.secretLookupByUuidString()`, `conn.secretLookupByUsage()`, `conn.listAllSecrets()` or `conn.secretDefineXml()`. Every method is one libvirt call (see {@link SecretCalls}); free the handle with `using`
 * or {@link Secret.free} (the connection frees what is left when it closes).
 *
 * @example
 * ```ts
 * import { Connection, type Secret } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * // the test driver has no secrets driver: qemu:///system does
 * const secrets: Secret[] = await conn.listAllSecrets().catch(() => []);
 * for (using secret of secrets) console.log(secret.name, secret.getUsageId());
 * ```
 */
export class Secret extends SecretCalls {
  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a Secret directly: use conn.secretLookupByUuidString(), conn.secretLookupByUsage(), conn.listAllSecrets() or conn.secretDefineXml()",
      );
    }
    super(handleType, connection, handle);
  }

  /**
   * The secret's value (read-write connections only; private secrets refuse).
   *
   * Calls [`virSecretGetValue`](https://libvirt.org/html/libvirt-libvirt-secret.html#virSecretGetValue).
   *
   * @param options raw `flags` (none are defined yet)
   * @returns the value's bytes
   * @throws {LibvirtError} e.g. {@link OperationInvalidError} for a private secret
   */
  async getValue(options?: { flags?: number } | number): Promise<Uint8Array> {
    const flags = m.flags(options, {}, "virSecretGetValue");
    const size = new m.Out();
    const pointer = await this[kCall](
      "call virSecretGetValue on",
      (h) => libvirtSymbol("virSecretGetValueAsync")(h, size.buffer, flags),
      m.isNull,
    );
    return m.takeBytes(pointer, Number(size.u64));
  }
}

registerHandleFactory(
  "virSecretPtr",
  (owner, pointer) => new Secret(constructing, connectionOf<Connection>(owner), pointer),
);

// The registry entry through which the layers below name Secret (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    Secret: Secret;
  }
}
