/**
 * A picture of a range: its libvirt hosts, the networks on each, the guests and their addresses, as
 * Mermaid text (for Markdown viewers) or Graphviz DOT, which {@link renderSvg} turns into SVG with
 * Graphviz's `dot` when it is installed (Debian's `graphviz`).
 *
 * Each host is a box (a Mermaid subgraph, a DOT cluster) holding the networks the range has there and
 * the guests it runs; each NIC is a line from its guest to its network, labelled with the NIC's
 * address: the discovered one when a status is given (with its confidence, and "?" with the flag for
 * an implausible one, e.g. outside the subnet), else the planned one. Every label is escaped: names,
 * URIs and addresses are text, never markup of either language.
 *
 * @example
 * ```ts
 * import { graphDot, graphMermaid, parseRangeDescription } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: demo
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: demo-lan, mode: isolated, subnet: 10.20.0.0/24 }]
 * guests:
 *   - { id: web, memory: 64, count: 2, nics: [{ network: demo-lan, address: 10.20.0.10 }] }
 * `);
 * console.log(graphMermaid(range).split("\n")[0]); // "flowchart LR"
 * console.log(graphDot(range).includes('label="demo-web-1')); // true
 * ```
 *
 * @module
 */
import type { Range } from "./description.ts";
import type { GuestStatus, RangeStatus } from "./status.ts";

/** One node of the picture. */
export interface GraphNode {
  /** A generated id (`h0`, `n0`, `g0`): never the user's text, so it needs no escaping. */
  id: string;
  /** What the node is. */
  kind: "host" | "network" | "guest";
  /** Its lines of text, unescaped. */
  label: string[];
  /** The host node it belongs to (networks and guests). */
  host?: string;
}

/** One NIC: a line from a guest to a network. */
export interface GraphEdge {
  /** The guest node's id. */
  from: string;
  /** The network node's id. */
  to: string;
  /** The NIC's address and MAC, unescaped. */
  label: string[];
  /** True when the address shown is not plausible (flagged by discovery, or below 0.5). */
  doubtful: boolean;
}

/** The picture as data: what {@link graphMermaid} and {@link graphDot} draw. */
export interface RangeGraph {
  /** The range's name. */
  range: string;
  /** Hosts, then per host its networks and guests. */
  nodes: GraphNode[];
  /** One per NIC. */
  edges: GraphEdge[];
}

function nicLabel(
  nic: Range["guests"][number]["nics"][number],
  seen: GuestStatus["nics"][number] | undefined,
): { label: string[]; doubtful: boolean } {
  const best = seen?.addresses[0];
  if (best) {
    const doubtful = best.confidence < 0.5;
    const flags = best.flags.filter((f) => f !== "same-origin");
    return {
      label: [
        `${best.address}${doubtful ? " ?" : ""} (${best.confidence}${
          flags.length ? `, ${flags.join(", ")}` : ""
        })`,
        nic.mac,
      ],
      doubtful,
    };
  }
  if (nic.address) return { label: [`${nic.address} (planned)`, nic.mac], doubtful: false };
  return { label: [nic.mac], doubtful: false };
}

/**
 * The picture of a range as data: hosts, their networks and guests, and one edge per NIC.
 *
 * @param range a validated range
 * @param status its status (from `rangeStatus`): the guests' states and discovered addresses; without
 *   it the picture shows the planned addresses
 * @returns the nodes and edges
 * @throws nothing: every range has a picture
 * @example
 * ```ts
 * import { parseRangeDescription, rangeGraph } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: lab
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: lab-lan, mode: isolated, subnet: 10.20.0.0/24 }]
 * guests: [{ id: pc, memory: 64, count: 3, nics: [{ network: lab-lan }] }]
 * `);
 * console.log(rangeGraph(range).edges.length); // 3
 * ```
 */
export function rangeGraph(range: Range, status?: RangeStatus): RangeGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const hostNode = new Map<string, string>();
  const networkNode = new Map<string, string>(); // `${host}\0${network}` -> id
  const specs = new Map((range.description.networks ?? []).map((n) => [n.name, n]));
  const statusOf = new Map((status?.guests ?? []).map((g) => [g.name, g]));
  for (const h of range.description.hosts) {
    if (!range.guests.some((g) => g.hostId === h.id)) continue; // a host without guests has nothing to show
    const id = `h${hostNode.size}`;
    hostNode.set(h.id, id);
    nodes.push({ id, kind: "host", label: [`host ${h.id}`, h.uri] });
  }
  const networkOn = (host: string, name: string): string => {
    const key = `${host}\0${name}`;
    let id = networkNode.get(key);
    if (!id) {
      id = `n${networkNode.size}`;
      networkNode.set(key, id);
      const spec = specs.get(name);
      nodes.push({
        id,
        kind: "network",
        label: [name, spec ? `${spec.subnet} ${spec.mode}${spec.external ? " (external)" : ""}` : "network"],
        host: hostNode.get(host),
      });
    }
    return id;
  };
  range.guests.forEach((g, i) => {
    const id = `g${i}`;
    const seen = statusOf.get(g.name);
    const state = seen ? seen.state : undefined;
    nodes.push({
      id,
      kind: "guest",
      label: [g.name, ...(state ? [state] : []), ...(seen?.error ? [`error: ${seen.error}`] : [])],
      host: hostNode.get(g.hostId),
    });
    g.nics.forEach((nic, j) => {
      const to = networkOn(g.hostId, nic.network);
      const seenNic = seen?.nics.find((n) => n.mac === nic.mac) ?? seen?.nics[j];
      edges.push({ from: id, to, ...nicLabel(nic, seenNic) });
    });
  });
  return { range: range.name, nodes, edges };
}

/**
 * Mermaid text: any character but letters, digits, space and `._,:/()=+@-` (in a quoted node label;
 * only `._,-` in an edge label) becomes a `#<code>;` entity, which Mermaid decodes, so quotes,
 * brackets, `|`, `<` and newlines in a name cannot break out of a label; lines are joined with
 * `<br/>` (nodes) or ", " (edges).
 */
function mermaidText(lines: string[], separator = "<br/>", safe = /[A-Za-z0-9 ._,:/()=+@-]/): string {
  return lines.map((line) => [...line].map((ch) => safe.test(ch) ? ch : `#${ch.codePointAt(0)};`).join(""))
    .join(separator);
}

/** An edge label sits between `|` without quotes: only the plainest characters stay bare. */
const EDGE_SAFE = /[A-Za-z0-9 ._,-]/;

/**
 * The range as a Mermaid flowchart: a subgraph per host holding its networks (rounded) and guests
 * (boxes), a line per NIC labelled with its address (dotted when the address is doubtful).
 *
 * @param range a validated range
 * @param status its status, for states and discovered addresses (else planned addresses are shown)
 * @returns the Mermaid text, starting `flowchart LR`
 * @throws nothing
 * @example
 * ```ts
 * import { graphMermaid, parseRangeDescription } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: lab
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: lab-lan, mode: isolated, subnet: 10.20.0.0/24 }]
 * guests: [{ id: pc, memory: 64, nics: [{ network: lab-lan }] }]
 * `);
 * const fence = "`".repeat(3); // a Markdown code block GitHub renders as the picture
 * console.log(`${fence}mermaid\n${graphMermaid(range)}${fence}`);
 * ```
 */
export function graphMermaid(range: Range, status?: RangeStatus): string {
  const graph = rangeGraph(range, status);
  const lines = ["flowchart LR", `  %% range ${mermaidText([graph.range])}`];
  const node = (n: GraphNode) =>
    n.kind === "network" ? `${n.id}(["${mermaidText(n.label)}"])` : `${n.id}["${mermaidText(n.label)}"]`;
  for (const h of graph.nodes.filter((n) => n.kind === "host")) {
    lines.push(`  subgraph ${h.id}["${mermaidText(h.label)}"]`);
    for (const n of graph.nodes.filter((m) => m.host === h.id)) lines.push(`    ${node(n)}`);
    lines.push("  end");
  }
  for (const e of graph.edges) {
    lines.push(`  ${e.from} ${e.doubtful ? "-.-" : "---"}|${mermaidText(e.label, ", ", EDGE_SAFE)}| ${e.to}`);
  }
  return lines.join("\n") + "\n";
}

/** A DOT quoted string: `\` and `"` escaped, each line ended by `\n` (centred), controls dropped. */
function dotText(lines: string[]): string {
  return `"${
    lines.map((line) =>
      // deno-lint-ignore no-control-regex
      line.replace(/[\x00-\x1f\x7f]/g, " ").replace(/\\/g, "\\\\").replace(/"/g, '\\"')
    ).join("\\n")
  }"`;
}

/**
 * The range as a Graphviz DOT graph: a cluster per host holding its networks (ellipses) and guests
 * (boxes), an edge per NIC labelled with its address (dashed when the address is doubtful).
 *
 * @param range a validated range
 * @param status its status, for states and discovered addresses (else planned addresses are shown)
 * @returns the DOT text, for `dot -Tsvg` ({@link renderSvg}) or any Graphviz tool
 * @throws nothing
 * @example
 * ```ts
 * import { graphDot, parseRangeDescription } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: lab
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: lab-lan, mode: isolated, subnet: 10.20.0.0/24 }]
 * guests: [{ id: pc, memory: 64, nics: [{ network: lab-lan }] }]
 * `);
 * console.log(graphDot(range).startsWith("graph ")); // true
 * ```
 */
export function graphDot(range: Range, status?: RangeStatus): string {
  const graph = rangeGraph(range, status);
  const lines = [
    `graph ${dotText([`range ${graph.range}`])} {`,
    `  graph [rankdir=LR, fontname="sans-serif", label=${dotText([`range ${graph.range}`])}];`,
    `  node [fontname="sans-serif", fontsize=10];`,
    `  edge [fontname="sans-serif", fontsize=9];`,
  ];
  const node = (n: GraphNode) =>
    `${n.id} [shape=${n.kind === "network" ? "ellipse" : "box"}, label=${dotText(n.label)}];`;
  for (const h of graph.nodes.filter((n) => n.kind === "host")) {
    lines.push(`  subgraph cluster_${h.id} {`, `    label=${dotText(h.label)};`);
    for (const n of graph.nodes.filter((m) => m.host === h.id)) lines.push(`    ${node(n)}`);
    lines.push("  }");
  }
  for (const e of graph.edges) {
    lines.push(`  ${e.from} -- ${e.to} [label=${dotText(e.label)}${e.doubtful ? ", style=dashed" : ""}];`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** Options of {@link renderSvg}. */
export interface RenderSvgOptions {
  /** The Graphviz program. Default "dot" (found on PATH). */
  dot?: string;
  /** Stops the rendering (kills `dot`); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Renders DOT text to SVG with Graphviz's `dot -Tsvg` (needs `--allow-run`).
 *
 * @param dot the DOT text, e.g. from {@link graphDot}
 * @param options the program, an abort signal
 * @returns the SVG document
 * @throws {Error} "Cannot render SVG: Graphviz's dot is not installed ..." when the program is not
 *   found, or dot's own message when it rejects the input; the signal's reason on abort; a
 *   `Deno.errors.NotCapable` / `PermissionDenied` without `--allow-run`, untouched
 * @example
 * ```ts
 * import { graphDot, type Range, renderSvg } from "@deno-libvirt/deno-libvirt/range";
 * export async function saveSvg(range: Range): Promise<void> {
 *   await Deno.writeTextFile("range.svg", await renderSvg(graphDot(range)));
 * }
 * ```
 */
export async function renderSvg(dot: string, options: RenderSvgOptions = {}): Promise<string> {
  options.signal?.throwIfAborted();
  const program = options.dot ?? "dot";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: ["-Tsvg"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      ...(options.signal ? { signal: options.signal } : {}),
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot render SVG: Graphviz's ${
          JSON.stringify(program)
        } is not installed (Debian: apt-get install graphviz); --format dot or mermaid need nothing`,
        { cause: error },
      );
    }
    throw error;
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(dot)).catch(() => {}); // dot's exit status says why
  await writer.close().catch(() => {});
  const out = await child.output();
  options.signal?.throwIfAborted();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`Cannot render SVG: ${program} -Tsvg exited with ${out.code}: ${stderr || "no message"}`);
  }
  return new TextDecoder().decode(out.stdout);
}
