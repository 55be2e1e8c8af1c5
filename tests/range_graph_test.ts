// The range's picture: Mermaid and DOT text with every label escaped, and the SVG Graphviz renders
// from it, parsed as XML and checked to name every guest and network of the demo range. In-process
// test:///default only (no lab lock). The SVG tests need Graphviz's dot (Debian's graphviz, which
// .ci/install.sh installs); without it they are skipped, saying so.
import assert from "node:assert/strict";
import { XMLParser } from "../lib/_deps_xml.ts";
import { PoolRegistry } from "../lib/pool.ts";
import { parseRangeDescription, type Range } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { graphDot, graphMermaid, rangeGraph, renderSvg } from "../lib/range/graph.ts";
import { type RangeStatus, rangeStatus } from "../lib/range/status.ts";
import { upRange } from "../lib/range/up.ts";
import { parseXml } from "../lib/xml.ts";
import { denoChildArgs, REPO_ROOT, runDeno } from "./_helpers.ts";

function findDot(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/dot`).isFile) return `${dir}/dot`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
const DOT = findDot();
if (!DOT) {
  console.warn(
    "range_graph_test: Graphviz's dot not found: the SVG tests are skipped (apt-get install graphviz)",
  );
}

const bundled = new URL("../examples/range_test_driver.yaml", import.meta.url);

/** Every text node of a parsed document, in order. */
function texts(node: unknown, out: string[] = []): string[] {
  if (typeof node === "string") out.push(node);
  else if (Array.isArray(node)) { for (const n of node) texts(n, out); }
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) if (!k.startsWith("@_")) texts(v, out);
  }
  return out;
}

/** The SVG's texts, after checking that it is well-formed XML. */
function svgTexts(svg: string): string[] {
  // the parser's validating mode throws on anything not well-formed (unclosed tags, bad entities)
  assert.doesNotThrow(() => new XMLParser().parse(svg, true), "the SVG is well-formed XML");
  const doc = parseXml(svg);
  assert.ok(doc.svg, "the document's root is <svg>");
  return texts(doc.svg);
}

Deno.test({
  name: "renderSvg: the demo range's picture parses as XML and names every guest, network and address",
  ignore: !DOT,
  async fn() {
    const range = parseRangeDescription(await Deno.readTextFile(bundled), "examples/range_test_driver.yaml");
    const registry = new PoolRegistry({ max: 4 });
    const hold = await registry.get("test:///default").acquire();
    try {
      await upRange(range, registry);
      const status = await rangeStatus(range, registry);
      const words = svgTexts(await renderSvg(graphDot(range, status))).join("\n");
      for (const g of range.guests) assert.ok(words.includes(g.name), `guest ${g.name} is named`);
      for (const n of range.description.networks ?? []) {
        assert.ok(words.includes(n.name), `network ${n.name} is named`);
        assert.ok(words.includes(n.subnet), `subnet ${n.subnet} is shown`);
      }
      assert.ok(words.includes("host local"));
      for (const g of status.guests) {
        for (const nic of g.nics) {
          const a = nic.addresses[0];
          assert.ok(a, `${g.name} has an address on ${nic.network}`);
          assert.ok(words.includes(a.address), `${g.name}'s ${a.address} is shown`);
        }
      }
      // doubtful addresses are marked, as discovery flagged them
      const outside = status.guests.flatMap((g) => g.nics).filter((n) =>
        n.addresses[0].flags.includes("outside-subnet")
      );
      assert.ok(outside.length > 0, "the test driver puts some addresses outside their subnet");
      for (const n of outside) {
        assert.ok(words.includes(`${n.addresses[0].address} ?`), n.addresses[0].address);
      }
      const mermaid = graphMermaid(range, status);
      assert.equal(mermaid.match(/ -\.-\|/g)?.length, outside.length, "one dotted line per doubtful address");
    } finally {
      await downRange(range, registry).catch(() => {});
      hold.release();
      await registry.closeAll();
    }
  },
});

const HOSTILE = `a"b\\c<d>&e|f]g[h#i;j\`k\nl{m}n'o`;

function hostileCase(): { range: Range; status: RangeStatus } {
  const range = parseRangeDescription(`
name: evil
hosts: [{ id: h1, uri: "test:///default" }]
storage: { pool: default-pool }
networks: [{ name: evil-lan, mode: isolated, subnet: 10.20.0.0/24 }]
guests: [{ id: pc, memory: 64, nics: [{ network: evil-lan, address: 10.20.0.10 }] }]
`);
  const status: RangeStatus = {
    range: "evil",
    generatedAt: "2026-01-01T00:00:00.000Z",
    tookMs: 1,
    counts: { running: 0, present: 1, described: 1, withAddress: 0 },
    guests: [{
      name: "evil-pc-1",
      guest: "pc",
      index: 1,
      host: "h1",
      uri: "test:///default",
      state: "shutoff",
      error: HOSTILE,
      nics: [{ network: "evil-lan", mac: range.guests[0].nics[0].mac, planned: "10.20.0.10", addresses: [] }],
    }],
  };
  return { range, status };
}

Deno.test("graphMermaid: no label can break out: quotes, brackets, pipes and newlines become entities", () => {
  const { range, status } = hostileCase();
  const text = graphMermaid(range, status);
  const label = /\["([^"]*)"\]/g;
  const found = [...text.matchAll(label)].map((m) => m[1]);
  assert.ok(
    found.some((l) => l.includes("error: a#34;b#92;c#60;d#62;#38;e#124;f#93;g#91;h#35;i#59;j#96;k#10;l")),
  );
  // the only markup in a label is the line break joining its lines: "<" and ">" anywhere else fail
  for (const l of found) assert.match(l.replaceAll("<br/>", ""), /^[A-Za-z0-9 ._,:/()=+@#;-]*$/, l);
  for (const line of text.trimEnd().split("\n").slice(1)) {
    assert.match(
      line,
      /^ {2}(%% .*|subgraph h\d+\["[^"\n]*"\]|end| {2}[gn]\d+(\["[^"\n]*"\]|\(\["[^"\n]*"\]\))|g\d+ (---|-\.-)\|[A-Za-z0-9 ._,#;-]*\| n\d+)$/,
      line,
    );
  }
  assert.match(text, /g0 ---\|10\.20\.0\.10 #40;planned#41;, 52#58;54/);
});

Deno.test({
  name: "graphDot: a hostile label comes out of Graphviz as the same text",
  ignore: !DOT,
  async fn() {
    const { range, status } = hostileCase();
    const dot = graphDot(range, status);
    const words = svgTexts(await renderSvg(dot));
    // the newline became a space (a control character is no label text); nothing else changed
    assert.ok(words.includes(`error: ${HOSTILE.replace("\n", " ")}`), words.join("\n"));
    assert.ok(words.includes("10.20.0.10 (planned)"), "without an address the planned one is shown");
  },
});

Deno.test("rangeGraph: hosts without guests are left out; planned addresses without a status", () => {
  const range = parseRangeDescription(`
name: two
hosts: [{ id: a, uri: "test:///default" }, { id: b, uri: "test:///default" }]
storage: { pool: default-pool }
networks: [{ name: two-lan, mode: isolated, subnet: 10.20.0.0/24 }]
guests: [{ id: pc, memory: 64, count: 2, host: a, nics: [{ network: two-lan, address: 10.20.0.10 }] }]
`);
  const graph = rangeGraph(range);
  assert.deepEqual(graph.nodes.map((n) => `${n.kind}:${n.label[0]}`), [
    "host:host a",
    "guest:two-pc-1",
    "network:two-lan",
    "guest:two-pc-2",
  ]);
  assert.deepEqual(graph.edges.map((e) => e.label[0]), ["10.20.0.10 (planned)", "10.20.0.11 (planned)"]);
  assert.ok(graph.edges.every((e) => e.to === "n0" && !e.doubtful));
});

Deno.test("renderSvg: a missing Graphviz is a clear error", async () => {
  await assert.rejects(
    renderSvg("graph { a }", { dot: "/nonexistent/c2inv-dot" }),
    /Cannot render SVG: Graphviz's "\/nonexistent\/c2inv-dot" is not installed \(Debian: apt-get install graphviz\)/,
  );
});

Deno.test({
  name: "renderSvg: DOT that Graphviz rejects is an error with its message",
  ignore: !DOT,
  async fn() {
    await assert.rejects(
      renderSvg("graph { a -- }"),
      /Cannot render SVG: dot -Tsvg exited with 1: .*syntax error/s,
    );
  },
});

Deno.test({
  name: "scripts/range.ts graph: mermaid by default, svg through dot, a bad format is a usage error",
  ignore: !DOT,
  async fn() {
    const script = `${REPO_ROOT}scripts/range.ts`;
    const run = (...rest: string[]) =>
      runDeno(denoChildArgs("run", "--allow-ffi", "--allow-read", "--allow-run=dot", script, ...rest));
    const mermaid = await run("graph", bundled.pathname);
    assert.equal(mermaid.code, 0, mermaid.stderr);
    assert.match(mermaid.stdout, /^flowchart LR\n/);
    const svg = await run("graph", bundled.pathname, "--format", "svg");
    assert.equal(svg.code, 0, svg.stderr);
    assert.ok(svgTexts(svg.stdout).includes("demo-desktop-16"));
    const bad = await run("graph", bundled.pathname, "--format", "png");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format of graph must be mermaid, dot, svg, got png/);
  },
});
