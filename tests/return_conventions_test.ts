// Return conventions the generator applies (lib/ffi/_gen/overrides.ts): a call that answers a value
// meaning "the connection is gone" throws a ConnectionLostError, attributed to the call and then to the
// method that made it, instead of returning the value.
import assert from "node:assert/strict";
import { Connection } from "../lib/connection.ts";
// the class modules fill lib/objects/_types.ts's ObjectClasses registry (declaration merging): without
// them in the program the generated methods' object types are missing when this file is checked alone
import type {} from "../mod.ts";
import { ConnectionLostError, ErrorCode, ErrorDomain } from "../lib/errors.ts";
import { lostConnectionIf } from "../lib/ffi/marshal.ts";
import { LOST_CONNECTION_RESULTS } from "../lib/ffi/_gen/overrides.ts";
import { libvirtSymbols } from "../lib/ffi/_generated/symbols.ts";

Deno.test("LOST_CONNECTION_RESULTS: every entry names a libvirt function (no stale overrides)", () => {
  for (const name of Object.keys(LOST_CONNECTION_RESULTS)) assert.ok(name in libvirtSymbols, name);
});

Deno.test("lostConnectionIf: the value passes; the lost value is a ConnectionLostError from RPC", () => {
  assert.equal(lostConnectionIf("QEMU", "remote", 'call virConnectGetType on "x"', "gone"), "QEMU");
  assert.throws(() => lostConnectionIf("remote", "remote", 'call virConnectGetType on "x"', "gone"), (e) => {
    assert.ok(e instanceof ConnectionLostError);
    assert.equal(e.code, ErrorCode.NO_CONNECT);
    assert.equal(e.domain, ErrorDomain.RPC);
    assert.equal(e.operation, 'call virConnectGetType on "x"');
    assert.equal(e.libvirtMessage, "gone");
    return true;
  });
});

Deno.test("virConnectGetType: generated with its return convention; hypervisorType names itself", async () => {
  const generated = await Deno.readTextFile(
    new URL("../lib/objects/_generated/connection.ts", import.meta.url),
  );
  const { value, reason } = LOST_CONNECTION_RESULTS.virConnectGetType;
  assert.ok(
    generated.includes(`m.lostConnectionIf(\n      m.readString(r),\n      ${JSON.stringify(value)},`),
  );
  assert.ok(generated.includes(JSON.stringify(reason)));
  await using conn = await Connection.open("test:///default");
  assert.equal(await conn.hypervisorType(), "TEST");
  // what the generated getType does when libvirt answers "remote", seen through the method above it
  conn.getType = () =>
    Promise.resolve(
      lostConnectionIf("remote", "remote", `call virConnectGetType on "test:///default"`, reason),
    );
  await assert.rejects(conn.hypervisorType(), (e) => {
    assert.ok(e instanceof ConnectionLostError, String(e));
    assert.equal(e.operation, 'get the hypervisor type of "test:///default"');
    assert.equal(e.code, ErrorCode.NO_CONNECT);
    return true;
  });
});
