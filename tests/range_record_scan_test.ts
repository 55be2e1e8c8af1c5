// The ownership record's fast scanner (lib/range/_record_scan.ts) reads exactly what the full parse
// reads, on records as libvirt writes them back, and hands every other shape to the full parse.
import assert from "node:assert/strict";
import { Connection, defineNetwork } from "../mod.ts";
import {
  type OwnershipRecord,
  parseRecord,
  parseRecordDocument,
  RECORD_NAMESPACE,
  recordXml,
} from "../lib/range/_libvirt.ts";
import { scanRecord } from "../lib/range/_record_scan.ts";

const awkward = ["plain", "a&b", "x<y>z", `q"uo'te`, "sp ace", "ünï", "&amp;lit", "-"];

function sample(i: number): OwnershipRecord {
  const pick = (k: number) => awkward[(i + k) % awkward.length];
  return {
    range: `s4scan${i}${pick(1)}`,
    host: pick(2),
    uuid: crypto.randomUUID(),
    entries: [
      { kind: "pool", name: `p${pick(3)}`, state: "created", built: i % 2 === 0 },
      { kind: "volume", name: `v${pick(4)}`, pool: `p${pick(3)}`, state: "intent", path: `/d/${pick(5)}` },
      { kind: "volume", name: `w${i}`, pool: "x", state: "created", made: i % 3 === 0 },
      { kind: "nwfilter", name: `f${pick(6)}`, state: "created" },
      ...(i % 4 === 0 ? [] : [{ kind: "pool" as const, name: "second", state: "intent" as const }]),
    ],
  };
}

Deno.test("scanRecord reads libvirt's own rendering of records as the full parse does", async () => {
  await using conn = await Connection.open("test:///default", { eventLoop: false });
  for (let i = 0; i < awkward.length; i++) {
    const record = sample(i);
    using network = await defineNetwork(conn, recordXml(record));
    try {
      const xml = await network.xmlDesc();
      const scanned = scanRecord(xml, record.range, RECORD_NAMESPACE);
      assert.notEqual(scanned, null, `libvirt's shape is scanned: ${xml}`);
      assert.deepEqual(scanned, parseRecordDocument(xml, record.range));
      assert.deepEqual(scanned?.entries.length, record.entries.length);
      // another range's name: not this range's record, either way
      assert.equal(scanRecord(xml, `${record.range}x`, RECORD_NAMESPACE), undefined);
      assert.equal(parseRecordDocument(xml, `${record.range}x`), undefined);
    } finally {
      await network.undefine();
    }
  }
});

Deno.test("scanRecord hands any other shape to the full parse, and parseRecord agrees with it", () => {
  const record = sample(1);
  const good = recordXml(record); // our own single-quoted rendering scans too
  assert.deepEqual(scanRecord(good, record.range, RECORD_NAMESPACE), parseRecordDocument(good, record.range));
  const variants = [
    good.replace("<metadata>", "<metadata><!-- note -->"),
    good.replace("<metadata>", "<metadata><other:x xmlns:other='urn:o'/>"),
    good.replace("name='w1'", "name='w&nbsp;'"),
    good.replace("</rec:record>", "text</rec:record>"),
    good.replace("<uuid>", "<uuid>\n"),
  ];
  for (const xml of variants) {
    const scanned = scanRecord(xml, record.range, RECORD_NAMESPACE);
    if (scanned !== null) assert.deepEqual(scanned, parseRecordDocument(xml, record.range), xml);
    assert.deepEqual(parseRecord(xml, record.range), parseRecordDocument(xml, record.range), xml);
  }
  // the ones the scanner must not read
  for (const xml of variants.slice(0, 4)) {
    assert.equal(scanRecord(xml, record.range, RECORD_NAMESPACE), null, xml);
  }
  // wrong namespace or version: not a record of this range
  assert.equal(parseRecord(good.replace(RECORD_NAMESPACE, "urn:other"), record.range), undefined);
  assert.equal(parseRecord(good.replace("version='1'", "version='2'"), record.range), undefined);
});
