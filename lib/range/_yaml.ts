/**
 * The YAML parser of range descriptions (`npm:js-yaml`), behind one small interface so that the
 * version is pinned once. JSON goes through it too: YAML 1.2 reads JSON, and errors then point at
 * lines alike.
 *
 * Why js-yaml and why events: it never touches `process` or the environment (`npm:yaml` reads
 * `process.env.LOG_TOKENS` on every token, which makes a script without `--allow-env` fail or prompt),
 * so nothing global is swapped around a parse. Its event stream carries source offsets, from which
 * this module builds the field -> line/column index the validator uses, and on which it enforces the
 * alias rules itself before any value is constructed: an alias to an unknown or still-open anchor, too
 * many aliases, or a document whose aliases expand past a node budget (a "billion laughs" document) is
 * a located {@link YamlError}, never a raw `ReferenceError`/`RangeError`.
 *
 * @module
 */
import { jsYaml } from "../_deps.ts";

/** A YAML document that cannot be read; `line` and `column` are 1-based. */
export class YamlError extends Error {
  /** 1-based line of the problem. */
  readonly line: number;
  /** 1-based column of the problem. */
  readonly column: number;
  /**
   * @param message what is wrong
   * @param line 1-based line
   * @param column 1-based column
   */
  constructor(message: string, line: number, column: number) {
    super(message);
    this.name = "YamlError";
    this.line = line;
    this.column = column;
  }
}

/** Bounds of {@link parseYaml}. */
export interface YamlLimits {
  /** Deepest nesting of mappings and sequences. */
  maxDepth: number;
  /** Most alias nodes (`*name`) in the document. */
  maxAliases: number;
  /** Most nodes the document stands for once every alias is expanded. */
  maxNodes: number;
}

/** A field's place in the document: mapping keys and sequence indexes from the root. */
export type YamlPath = readonly (string | number)[];

/** Where a field is; `key` asks for its key rather than its value. */
export type Locate = (path: YamlPath, key: boolean) => { line: number; column: number } | undefined;

/** A parsed document: its value and where each of its fields is. */
export interface ParsedYaml {
  /** The plain value: objects, arrays, strings, numbers, booleans, null; undefined when empty. */
  value: unknown;
  /** Finds a field's line and column. */
  locate: Locate;
}

/** The bounds used when a caller gives none: far above any real description, far below harm. */
export const YAML_DEFAULT_LIMITS: Readonly<YamlLimits> = Object.freeze({
  maxDepth: 32,
  maxAliases: 200,
  maxNodes: 200_000,
});

const { EVENT_ID } = jsYaml;

/** Maps offsets to 1-based lines and columns. */
function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  };
}

function key(path: YamlPath): string {
  return JSON.stringify(path);
}

interface Frame {
  kind: "map" | "seq" | "ignored";
  path: YamlPath;
  index: number;
  /** In a mapping: true while the next node is a key. */
  expectKey: boolean;
  currentKey?: string;
  /** The anchor of this collection (open until its POP) and its node count so far. */
  anchor?: string;
  nodes: number;
}

function start(event: jsYaml.Event): number {
  switch (event.type) {
    case EVENT_ID.SCALAR:
      return Math.min(...[event.anchorStart, event.tagStart, event.valueStart].filter((o) => o >= 0));
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return Math.min(...[event.anchorStart, event.tagStart, event.start].filter((o) => o >= 0));
    case EVENT_ID.ALIAS:
      return Math.max(0, event.anchorStart - 1);
    default:
      return 0;
  }
}

type Places = Map<string, { key?: number; value: number }>;

/**
 * Walks the events once: records each field's key and value offsets, enforces the alias rules and the
 * node budget, and refuses a second document.
 */
class Indexer {
  readonly places: Places = new Map();
  /** anchor -> the number of nodes it stands for */
  readonly #anchors = new Map<string, number>();
  /** anchors of collections not closed yet (an alias to one is a cycle) */
  readonly #open = new Set<string>();
  readonly #stack: Frame[] = [];
  #documents = 0;
  #aliases = 0;
  #nodes = 0;
  #last = 0;

  constructor(
    readonly text: string,
    readonly limits: YamlLimits,
    readonly at: (offset: number) => { line: number; column: number },
  ) {}

  fail(message: string, offset: number): never {
    const { line, column } = this.at(offset);
    throw new YamlError(message, line, column);
  }

  /** Charges `n` nodes to the document and to every open collection. */
  count(n: number, offset: number): void {
    this.#nodes += n;
    for (const frame of this.#stack) frame.nodes += n;
    if (this.#nodes > this.limits.maxNodes) {
      this.fail(
        `the document stands for more than ${this.limits.maxNodes} nodes once its aliases are expanded ` +
          "(an alias bomb?): write the values out, or raise limits.maxYamlNodes",
        offset,
      );
    }
  }

  /** Records where the node that starts now is; says whether it is a mapping key. */
  place(offset: number): { path?: YamlPath; isKey: boolean } {
    const top = this.#stack.at(-1);
    if (top === undefined) {
      this.places.set(key([]), { value: offset });
      return { path: [], isKey: false };
    }
    if (top.kind === "ignored") return { isKey: false };
    if (top.kind === "seq") {
      const path = [...top.path, top.index++];
      this.places.set(key(path), { value: offset });
      return { path, isKey: false };
    }
    if (top.expectKey) return { isKey: true };
    const path = top.currentKey === undefined ? undefined : [...top.path, top.currentKey];
    if (path) this.places.set(key(path), { ...this.places.get(key(path)), value: offset });
    return { ...(path ? { path } : {}), isKey: false };
  }

  /** After a complete node: a mapping alternates key and value. */
  done(): void {
    const top = this.#stack.at(-1);
    if (top?.kind === "map") top.expectKey = !top.expectKey;
  }

  event(event: jsYaml.Event): void {
    if (event.type === EVENT_ID.DOCUMENT) {
      if (++this.#documents > 1) {
        this.fail("more than one document (a second `---`): a range description is one document", 0);
      }
      return;
    }
    // An empty scalar (`count:`) has no offset of its own: it is where the node before it was.
    const own = start(event);
    const offset = Number.isFinite(own) ? own : this.#last;
    this.#last = offset;
    if (event.type === EVENT_ID.POP) return this.pop();
    const top = this.#stack.at(-1);
    const { path, isKey } = this.place(offset);
    if (event.type === EVENT_ID.ALIAS) return this.alias(event, offset, isKey);
    this.count(1, offset);
    const anchor = event.anchorStart >= 0 ? this.text.slice(event.anchorStart, event.anchorEnd) : undefined;
    if (event.type === EVENT_ID.SCALAR) {
      if (isKey && top?.kind === "map") {
        top.currentKey = jsYaml.getScalarValue(this.text, event);
        this.places.set(key([...top.path, top.currentKey]), { key: offset, value: offset });
      }
      if (anchor !== undefined) this.#anchors.set(anchor, 1);
      return this.done();
    }
    // a mapping or a sequence; one that is a key (or under one) is not indexed
    if (isKey && top?.kind === "map") top.currentKey = undefined;
    const kind = isKey || path === undefined ? "ignored" : event.type === EVENT_ID.MAPPING ? "map" : "seq";
    if (anchor !== undefined) this.#open.add(anchor);
    this.#stack.push({
      kind,
      path: path ?? [],
      index: 0,
      expectKey: true,
      nodes: 1,
      ...(anchor !== undefined ? { anchor } : {}),
    });
  }

  pop(): void {
    const frame = this.#stack.pop();
    if (frame === undefined) return; // the document's end
    if (frame.anchor !== undefined) {
      this.#open.delete(frame.anchor);
      this.#anchors.set(frame.anchor, frame.nodes);
    }
    this.done();
  }

  alias(event: jsYaml.AliasEvent, offset: number, isKey: boolean): void {
    const name = this.text.slice(event.anchorStart, event.anchorEnd);
    if (++this.#aliases > this.limits.maxAliases) {
      this.fail(
        `more than ${this.limits.maxAliases} aliases: write the values out, or raise limits.maxYamlAliases`,
        offset,
      );
    }
    if (this.#open.has(name)) this.fail(`alias *${name} refers to a node that contains it (a cycle)`, offset);
    const size = this.#anchors.get(name);
    if (size === undefined) this.fail(`alias *${name} refers to no anchor &${name} before it`, offset);
    if (isKey) this.fail(`alias *${name} used as a mapping key: write the key out`, offset);
    this.count(size, offset);
    this.done();
  }
}

/**
 * Parses YAML (or JSON) text into a plain value plus an index of where each field is.
 *
 * @param text the source
 * @param limits nesting depth, alias and node bounds
 * @returns the value and its locator
 * @throws {YamlError} with the line and column of the first problem (syntax, duplicate key, unknown
 *   tag, alias rules, bounds, more than one document)
 */
export function parseYaml(text: string, limits: YamlLimits): ParsedYaml {
  const at = lineIndex(text);
  let places: Places;
  let value: unknown;
  try {
    const events = jsYaml.parseEvents(text, { maxDepth: limits.maxDepth });
    const indexer = new Indexer(text, limits, at);
    for (const event of events) indexer.event(event);
    places = indexer.places;
    value = jsYaml.constructFromEvents(events, { source: text, maxAliases: limits.maxAliases })[0];
  } catch (error) {
    if (error instanceof YamlError) throw error;
    if (error instanceof jsYaml.YAMLException) {
      const mark = error.mark;
      throw new YamlError(
        (error.reason ?? error.message).split("\n")[0],
        (mark?.line ?? 0) + 1,
        (mark?.column ?? 0) + 1,
      );
    }
    // js-yaml's documentation: every exception must be caught, not only YAMLException.
    throw new YamlError(`cannot be read: ${String((error as Error)?.message ?? error).slice(0, 200)}`, 1, 1);
  }
  const locate: Locate = (path, wantKey) => {
    const place = places.get(key(path));
    // the root of an empty document (or of one that is only a comment) is its start
    if (place === undefined) return path.length === 0 ? { line: 1, column: 1 } : undefined;
    return at(wantKey && place.key !== undefined ? place.key : place.value);
  };
  return { value, locate };
}

/**
 * Serializes a value as YAML.
 *
 * @param value a plain value
 * @returns the YAML text
 */
export function toYaml(value: unknown): string {
  return jsYaml.dump(value, { lineWidth: -1, noRefs: true });
}
