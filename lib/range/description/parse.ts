/**
 * @internal Parsing and validation: text -> value (bounded YAML) -> checked sections -> expanded range.
 * Every problem is collected in one pass and thrown as one {@link RangeDescriptionError}; nothing is
 * expanded past a bound.
 *
 * @module
 */
import { type Locate, parseYaml, YamlError } from "../_yaml.ts";
import { Checker } from "./checker.ts";
import { expand } from "./expand.ts";
import { checkFirewall, checkFirewallAddresses } from "./firewall.ts";
import { checkGuest, type GuestPlan } from "./guests.ts";
import { checkNetworks } from "./networks.ts";
import { checkBaseImages, checkHosts, checkRangeName, checkStorage } from "./top.ts";
import {
  DEFAULT_LIMITS,
  type DescriptionLimits,
  type GuestSpec,
  quote,
  type Range,
  type RangeDescription,
  RangeDescriptionError,
} from "./types.ts";

/** Options for {@link validateRange}. */
export interface ValidateOptions {
  /** How errors name the description (a file name); default "description". */
  source?: string;
  /** Raise (or lower) any bound; the others keep their {@link DEFAULT_LIMITS} value. */
  limits?: Partial<DescriptionLimits>;
  /** @internal Maps a field to its line (set by parseRangeDescription). */
  locate?: Locate;
}

/** Options for {@link parseRangeDescription}. */
export interface ParseRangeOptions {
  /** How errors name the description (a file name); default "description". */
  source?: string;
  /**
   * Raise (or lower) any bound; the others keep their {@link DEFAULT_LIMITS} value, e.g.
   * `{ limits: { maxGuests: 5000 } }` for a range of more than 1,000 guests.
   */
  limits?: Partial<DescriptionLimits>;
}

function resolveLimits(limits: Partial<DescriptionLimits> = {}): DescriptionLimits {
  const merged = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_LIMITS)) {
      throw new TypeError(
        `Cannot read range description: unknown limit ${quote(key)} (known: ${
          Object.keys(DEFAULT_LIMITS).join(", ")
        })`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(
        `Cannot read range description: limits.${key} must be a positive whole number, got ${quote(value)}`,
      );
    }
    merged[key as keyof DescriptionLimits] = value;
  }
  return merged;
}

function utf8Length(text: string, atLeast: number): number {
  // Only encode when the answer is in doubt: a UTF-16 unit is 1 to 3 UTF-8 bytes.
  if (text.length > atLeast || text.length * 3 <= atLeast) return text.length;
  return new TextEncoder().encode(text).length;
}

/**
 * Parses and validates a YAML or JSON range description, and expands it.
 *
 * The text and the range it describes are bounded ({@link DescriptionLimits}: document size, nesting,
 * aliases, string lengths, total guests, error size); a caller raises a bound with `limits`.
 *
 * @param text the description
 * @param options how errors name it (a string is taken as `source`), and the bounds
 * @returns the validated range with its concrete guests
 * @throws {RangeDescriptionError} listing the problems with their line, column and field
 * @throws {TypeError} when `options.limits` holds an unknown or non-positive bound
 *
 * @example
 * ```ts
 * import { parseRangeDescription } from "@deno-libvirt/deno-libvirt";
 * const text = `
 * name: big
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * guests: [{ id: node, memory: 64, count: 1500 }]
 * `;
 * const range = parseRangeDescription(text, { source: "big.yaml", limits: { maxGuests: 2000 } });
 * console.log(range.guests.length); // 1500
 * ```
 */
export function parseRangeDescription(text: string, options: string | ParseRangeOptions = {}): Range {
  const { source = "description", limits: given } = typeof options === "string"
    ? { source: options }
    : options;
  const limits = resolveLimits(given);
  if (typeof text !== "string") {
    throw new RangeDescriptionError(source, [{ path: "", message: `must be text, got ${quote(text)}` }]);
  }
  const bytes = utf8Length(text, limits.maxDocumentBytes);
  if (bytes > limits.maxDocumentBytes) {
    throw new RangeDescriptionError(source, [{
      path: "",
      line: 1,
      column: 1,
      message:
        `the text is ${bytes > text.length ? bytes : `at least ${bytes}`} bytes, more than the limit of ` +
        `${limits.maxDocumentBytes} (limits.maxDocumentBytes)`,
    }]);
  }
  let parsed;
  try {
    parsed = parseYaml(text, {
      maxDepth: limits.maxDepth,
      maxAliases: limits.maxYamlAliases,
      maxNodes: limits.maxYamlNodes,
    });
  } catch (error) {
    if (!(error instanceof YamlError)) throw error;
    throw new RangeDescriptionError(source, [{
      path: "",
      line: error.line,
      column: error.column,
      message: `not valid YAML/JSON: ${quote(error.message, 400).slice(1, -1)}`,
    }]);
  }
  return validateRange(parsed.value, { source, limits, locate: parsed.locate });
}

/**
 * Validates a description given as a value (already parsed) and expands it.
 *
 * @param value the description object
 * @param options how errors name it, and the bounds
 * @returns the validated range
 * @throws {RangeDescriptionError} listing the problems with their field
 * @throws {TypeError} when `options.limits` holds an unknown or non-positive bound
 *
 * @example
 * ```ts
 * import { validateRange } from "@deno-libvirt/deno-libvirt";
 * const range = validateRange({
 *   name: "lab",
 *   hosts: [{ id: "h", uri: "test:///default" }],
 *   storage: { pool: "default-pool" },
 *   guests: [{ id: "web", memory: 64 }],
 * });
 * console.log(range.guests[0].name); // "lab-web-1"
 * ```
 */
export function validateRange(value: unknown, options: ValidateOptions = {}): Range {
  const limits = resolveLimits(options.limits);
  const c = new Checker(options.locate ?? (() => undefined), limits);
  const fail = () => new RangeDescriptionError(options.source ?? "description", c.issues, c.omitted);
  const root = c.object(value, [], [
    "name",
    "hosts",
    "storage",
    "networks",
    "baseImages",
    "guests",
    "snapshot",
    "firewall",
  ], [
    "name",
    "hosts",
    "guests",
  ]);
  if (!root) throw fail();
  const name = checkRangeName(c, root);
  const snapshot = c.name(root.snapshot, ["snapshot"], "snapshot name") ?? "clean";
  const hosts = checkHosts(c, root);
  const pool = checkStorage(c, root, name);
  const nets = checkNetworks(c, root);
  const images = checkBaseImages(c, root);
  const ids = new Set<string>();
  const plans: GuestPlan[] = [];
  c.list(root.guests, ["guests"], true, "guest").forEach((g, i) => {
    const plan = checkGuest(c, g, i, { hosts, networks: nets.networks, images }, ids);
    if (plan) plans.push(plan);
  });
  const firewall = checkFirewall(c, root, new Set(nets.networks.keys()), ids);
  if (c.failed || name === undefined) throw fail();
  const { guests, networksByHost } = expand(c, name, plans, hosts, nets);
  checkFirewallAddresses(c, firewall, guests);
  if (c.failed) throw fail();
  const description: RangeDescription = {
    name,
    hosts: [...hosts.values()],
    storage: pool.created ? { path: pool.path ?? "" } : { pool: pool.name },
    networks: [...nets.networks.values()].map((n) => n.spec),
    baseImages: [...images.values()],
    guests: root.guests as GuestSpec[],
    snapshot,
    ...(firewall.length > 0 ? { firewall: firewall.map((r) => r.rule) } : {}),
  };
  return { description, name, guests, networksByHost, pool, snapshot, limits };
}
