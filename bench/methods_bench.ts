// deno bench: the per-call overhead of the generated one-call layer against the hand-written path it
// replaces, in-process (test:///default: the call itself costs ~1-2 µs, so the layer's overhead shows).
// libvirt-python's number for the same call comes from bench/methods_compare.ts.
import { Connection, lookupDomain } from "../mod.ts";

const conn = Connection.openSync("test:///default");
const dom = await lookupDomain(conn, "test");

Deno.bench(
  "virDomainGetInfo sync: generated dom.getInfoSync()",
  { group: "info sync", baseline: true },
  () => {
    dom.getInfoSync();
  },
);
Deno.bench("virDomainGetInfo sync: hand-written dom.infoSync()", { group: "info sync" }, () => {
  dom.infoSync();
});

Deno.bench(
  "virDomainGetState sync: generated dom.getStateSync()",
  { group: "state sync", baseline: true },
  () => {
    dom.getStateSync();
  },
);

Deno.bench("virDomainGetState nonblocking: generated dom.getState()", {
  group: "state async",
  baseline: true,
}, async () => {
  await dom.getState();
});
Deno.bench("virDomainGetState nonblocking: hand-written dom.state()", { group: "state async" }, async () => {
  await dom.state();
});

Deno.bench(
  "virDomainGetXMLDesc nonblocking: generated dom.getXmlDesc()",
  { group: "xml", baseline: true },
  async () => {
    await dom.getXmlDesc();
  },
);
Deno.bench("virDomainGetXMLDesc nonblocking: hand-written dom.xmlDesc()", { group: "xml" }, async () => {
  await dom.xmlDesc();
});
