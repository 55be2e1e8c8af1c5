// A small command-line parser for the one-shot scripts, in place of node:util's parseArgs: the first
// node: import makes Deno load its Node compatibility layer, ~18 ms of a script's start.

/** One option: a flag (boolean) or a value (string), possibly repeated. */
export interface ArgOption {
  type: "boolean" | "string";
  multiple?: boolean;
  short?: string;
  default?: boolean | string;
}

/** What {@link parseArgs} found. */
export interface ParsedArgs {
  values: Record<string, unknown>;
  positionals: string[];
}

/**
 * Parses `--name value`, `--name=value`, `--flag`, `-s` and positionals (after `--`: all positionals).
 *
 * @param config the options, and whether positionals are allowed
 * @returns the values (defaults filled in) and the positionals
 * @throws {TypeError} for an unknown option, a missing value, a value given to a flag, or a positional
 *   when none are allowed, naming the argument
 * @example
 * ```ts
 * import { parseArgs } from "./_args.ts";
 * const { values } = parseArgs({ args: ["--json"], options: { json: { type: "boolean" } } });
 * console.log(values.json); // true
 * ```
 */
export function parseArgs(config: {
  args?: string[];
  options: Record<string, ArgOption>;
  allowPositionals?: boolean;
}): ParsedArgs {
  const args = config.args ?? Deno.args;
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const shorts = new Map(
    Object.entries(config.options).filter(([, o]) => o.short).map(([name, o]) => [o.short!, name]),
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (!config.allowPositionals) throw new TypeError(`Unexpected argument '${arg}'`);
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const eq = long ? arg.indexOf("=") : -1;
    const key = long ? arg.slice(2, eq < 0 ? undefined : eq) : arg.slice(1);
    const name = long ? key : shorts.get(key);
    const option = name === undefined ? undefined : config.options[name];
    if (name === undefined || option === undefined) throw new TypeError(`Unknown option '${arg}'`);
    let value: boolean | string;
    if (option.type === "boolean") {
      if (eq >= 0) throw new TypeError(`Option '--${name}' does not take a value`);
      value = true;
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        throw new TypeError(`Option '--${name} <value>' argument missing`);
      }
      value = next;
      i++;
    }
    if (option.multiple) values[name] = [...((values[name] as unknown[] | undefined) ?? []), value];
    else values[name] = value;
  }
  for (const [name, option] of Object.entries(config.options)) {
    if (values[name] === undefined && option.default !== undefined) values[name] = option.default;
  }
  return { values, positionals };
}
