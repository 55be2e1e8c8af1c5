import assert from "node:assert/strict";
import {
  attachNic,
  Connection,
  detachNic,
  findNic,
  lookupDomain,
  nicXml,
  NotSupportedError,
  parseNics,
  setNicLink,
  withLinkState,
} from "../mod.ts";

const XML = `<domain type='kvm'><name>g</name><devices>
  <interface type='network'>
    <mac address='52:54:00:AA:00:01'/>
    <source network='lan' portid='x' bridge='virbr1'/>
    <target dev='vnet7'/>
    <model type='virtio'/>
    <alias name='net0'/>
  </interface>
  <interface type='bridge'><mac address='52:54:00:aa:00:02'/><source bridge='br0'/><link state='down'/></interface>
  <interface type='network'><mac address='52:54:00:aa:00:03'/><source network='dmz'/></interface>
  <interface type='network'><mac address='52:54:00:aa:00:04'/><source network='dmz'/></interface>
</devices></domain>`;

Deno.test("parseNics reads each NIC with its own element text and link state", () => {
  const nics = parseNics(XML);
  assert.equal(nics.length, 4);
  assert.deepEqual(
    { ...nics[0], xml: undefined },
    {
      mac: "52:54:00:aa:00:01",
      type: "network",
      source: "lan",
      target: "vnet7",
      alias: "net0",
      model: "virtio",
      link: "up",
      xml: undefined,
    },
  );
  assert.ok(nics[0].xml.startsWith("<interface type='network'>") && nics[0].xml.endsWith("</interface>"));
  assert.ok(XML.includes(nics[0].xml), "the element text is the document's own");
  assert.equal(nics[1].link, "down");
  assert.equal(nics[1].source, "br0");
  assert.deepEqual(parseNics("<domain><devices/></domain>"), []);
});

Deno.test("findNic finds by MAC, device, alias and network; ambiguity and misses list the NICs", () => {
  const nics = parseNics(XML);
  assert.equal(findNic(nics, "52:54:00:AA:00:02").mac, "52:54:00:aa:00:02");
  assert.equal(findNic(nics, "52-54-00-aa-00-02").mac, "52:54:00:aa:00:02");
  assert.equal(findNic(nics, "vnet7").mac, "52:54:00:aa:00:01");
  assert.equal(findNic(nics, "net0").mac, "52:54:00:aa:00:01");
  assert.equal(findNic(nics, "lan").mac, "52:54:00:aa:00:01");
  assert.equal(findNic(nics, "br0").mac, "52:54:00:aa:00:02");
  assert.throws(
    () => findNic(nics, "dmz", "web"),
    /2 NICs are on it \(52:54:00:aa:00:03, 52:54:00:aa:00:04\): name one by MAC/,
  );
  assert.throws(
    () => findNic(nics, "52:54:00:aa:00:09", "web"),
    /Cannot find NIC "52:54:00:aa:00:09" of web: its NICs: 52:54:00:aa:00:01 on lan \(vnet7\)/,
  );
  assert.throws(() => findNic(nics, "eth9"), RangeError);
  assert.throws(() => findNic([], "lan", "web"), /it has no NIC/);
  assert.throws(() => findNic(nics, ""), RangeError);
});

Deno.test("withLinkState replaces or adds the link element and keeps the rest", () => {
  const [up, down] = parseNics(XML);
  const pulled = withLinkState(up.xml, "down");
  assert.equal(parseNics(`<domain><devices>${pulled}</devices></domain>`)[0].link, "down");
  assert.equal(pulled.replace("<link state='down'/>", ""), up.xml);
  const plugged = withLinkState(down.xml, "up");
  assert.equal((plugged.match(/<link /g) ?? []).length, 1);
  assert.ok(plugged.includes("<link state='up'/>"));
  assert.throws(() => withLinkState(up.xml, "off" as "up"), RangeError);
  assert.throws(() => withLinkState("<disk/>", "up"), TypeError);
});

Deno.test("nicXml escapes values and needs exactly one of network and bridge", () => {
  const xml = nicXml({ network: "a'b<c", mac: "52:54:00:00:00:01", linkDown: true });
  assert.equal(
    xml,
    "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='a&apos;b&lt;c'/>" +
      "<model type='virtio'/><link state='down'/></interface>",
  );
  assert.ok(nicXml({ bridge: "br0", mac: "52:54:00:00:00:01" }).includes("<source bridge='br0'/>"));
  assert.throws(() => nicXml({ mac: "52:54:00:00:00:01" }), /exactly one of network and bridge/);
  assert.throws(() => nicXml({ network: "n", bridge: "b", mac: "52:54:00:00:00:01" }), TypeError);
  assert.throws(() => nicXml({ network: "n", mac: "01:00:00:00:00:01" }), /multicast/);
});

Deno.test("setNicLink, attachNic, detachNic: the test driver's refusal is a NotSupportedError; bad refs are RangeErrors", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await assert.rejects(() => setNicLink(dom, "aa:bb:cc:dd:ee:ff", "down"), NotSupportedError);
  await assert.rejects(() => setNicLink(dom, "52:54:00:00:00:99", "down"), RangeError);
  await assert.rejects(() => setNicLink(dom, "testnet0", "sideways" as "up"), RangeError);
  await assert.rejects(() => attachNic(dom, { network: "default" }), NotSupportedError);
  await assert.rejects(
    () => attachNic(dom, { network: "default", mac: "AA:BB:CC:DD:EE:FF" }),
    /aa:bb:cc:dd:ee:ff to "test".*give another MAC/,
  );
  await assert.rejects(() => detachNic(dom, "default"), NotSupportedError);
});
