// The generated methods of the objects the in-process test driver cannot create (secrets, network
// filters and their bindings, network ports), run against the lab's qemu:///system on objects this
// test defines and removes itself. Every method of those classes in the generator's manifest runs
// once: it returns the shape its signature promises or throws a LibvirtError.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/methods_lab_test.ts
import assert from "node:assert/strict";
import {
  Connection,
  LibvirtError,
  lookupNetwork,
  NetworkPort,
  NWFilter,
  NWFilterBinding,
  Secret,
} from "../../mod.ts";
import { generatedMethods } from "../_generated_methods.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

const tag = `dlv-methods-${Deno.pid}`;
const owner = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
const destructive = new Set(["undefine", "delete"]);

async function runAll(className: string, target: object, args: Record<string, unknown[]>): Promise<string[]> {
  const ran: string[] = [];
  const entries = generatedMethods.filter((e) => e.object === className)
    .sort((a, b) => Number(destructive.has(a.method)) - Number(destructive.has(b.method)));
  for (const entry of entries) {
    const method = (target as Record<string, (...a: unknown[]) => unknown>)[entry.method];
    assert.equal(typeof method, "function", `${className}.${entry.method}`);
    try {
      const value = await method.apply(target, args[entry.method] ?? []);
      if (entry.returns === "void") assert.equal(value, undefined);
      else if (["string", "number", "bigint", "boolean"].includes(entry.returns)) {
        assert.equal(typeof value, entry.returns, `${className}.${entry.method}`);
      } else if (entry.returns === "Uint8Array") assert.ok(value instanceof Uint8Array);
      else assert.equal(typeof value, "object", `${className}.${entry.method}`);
      ran.push(`${entry.method}: ok`);
    } catch (error) {
      assert.ok(error instanceof LibvirtError, `${className}.${entry.method}: ${String(error)}`);
      ran.push(`${entry.method}: ${error.codeName}`);
    }
  }
  return ran;
}

Deno.test({
  name: "generated Secret, NWFilter, NWFilterBinding and NetworkPort methods on qemu:///system",
  // the lab's daemon connection keeps its keepalive timer until closed: closed in finally
  async fn() {
    await requireLabNamespace();
    await using conn = await Connection.open(lab().uri);
    const made: (() => Promise<unknown>)[] = [];
    try {
      // a secret of our own
      const secret = await conn.secretDefineXml(
        `<secret ephemeral='no' private='no'><description>${tag}</description>` +
          `<usage type='volume'><volume>/var/lib/deno_libvirt_lab/${tag}.img</volume></usage></secret>`,
      );
      assert.ok(secret instanceof Secret);
      made.push(() => secret.undefine());
      // the hand-written getValue reads back what the generated setValue stored
      await secret.setValue(new TextEncoder().encode("s3cret"));
      assert.equal(new TextDecoder().decode(await secret.getValue()), "s3cret");
      const secretRan = await runAll("Secret", secret, { setValue: [new TextEncoder().encode("s3cret")] });
      console.log("Secret:", secretRan.join(", "));
      assert.ok(secretRan.includes("setValue: ok") && secretRan.includes("getXmlDesc: ok"));

      // a network filter of our own, and a binding of it to a port device name of our own
      const filter = await conn.nwFilterDefineXml(
        `<filter name='${tag}' chain='root'><rule action='accept' direction='out'><all/></rule></filter>`,
      );
      assert.ok(filter instanceof NWFilter);
      made.push(() => filter.undefine());
      let bindingRan: string[] = ["(no binding)"];
      try {
        const binding = await conn.nwFilterBindingCreateXml(
          `<filterbinding><owner><name>${tag}</name><uuid>${owner}</uuid></owner>` +
            `<portdev name='dlvm${Deno.pid % 100000}'/><mac address='52:54:00:7a:00:01'/>` +
            `<filterref filter='${tag}'/></filterbinding>`,
        );
        assert.ok(binding instanceof NWFilterBinding);
        made.push(() => binding.delete());
        bindingRan = await runAll("NWFilterBinding", binding, {});
      } catch (error) {
        // no such device in the namespace: libvirt says so, as a LibvirtError
        assert.ok(error instanceof LibvirtError, String(error));
        bindingRan = [`create: ${error.codeName}`];
      }
      console.log("NWFilterBinding:", bindingRan.join(", "));
      const filterRan = await runAll("NWFilter", filter, {});
      console.log("NWFilter:", filterRan.join(", "));

      // a port on the lab's NAT network
      using net = await lookupNetwork(conn, lab().networks.nat.name);
      const port = await net.portCreateXml(
        `<networkport><uuid>${crypto.randomUUID()}</uuid><owner><name>${tag}</name><uuid>${owner}</uuid></owner>` +
          `<mac address='52:54:00:7a:00:02'/></networkport>`,
      );
      assert.ok(port instanceof NetworkPort);
      made.push(() => port.delete());
      const portRan = await runAll("NetworkPort", port, { setParameters: [{ "inbound.average": 1000 }] });
      console.log("NetworkPort:", portRan.join(", "));
      assert.ok(portRan.includes("getXmlDesc: ok"));
    } finally {
      // remove what this test made and the runs above did not (each removal is idempotent-ish:
      // a second undefine/delete fails with NO_* and is ignored)
      for (const undo of made.reverse()) await undo().catch(() => {});
    }
  },
});
