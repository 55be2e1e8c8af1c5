/**
 * The range description: what a cyber range is made of (hosts, networks, base images, guests), read
 * from YAML or JSON, validated with errors that point at the line and the field, and expanded into the
 * concrete guests (`<range>-<guest>-<n>`) with their MACs, planned addresses and hosts.
 *
 * The schema is documented in docs/range.md.
 *
 * @example
 * ```ts
 * import { parseRangeDescription } from "@deno-libvirt/deno-libvirt";
 * const range = parseRangeDescription(`
 * name: demo
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: demo-lan, mode: isolated, subnet: 10.20.0.0/24 }]
 * guests:
 *   - { id: web, memory: 64, count: 2, nics: [{ network: demo-lan }] }
 * `);
 * console.log(range.guests.map((g) => g.name)); // ["demo-web-1", "demo-web-2"]
 * ```
 *
 * The code lives in `./description/`: `types.ts` (the schema and the error), `checker.ts` (field
 * checks), one module per section (`top.ts`, `networks.ts`, `guests.ts`), `expand.ts` and `parse.ts`.
 * This module re-exports the public names.
 *
 * @module
 */
export type {
  AddAccountTask,
  BaseImageSpec,
  CopyContentTask,
  DescriptionIssue,
  DescriptionLimits,
  ExecuteProgramTask,
  ExpandedGuest,
  ExpandedNic,
  FirewallRuleSpec,
  GuestSpec,
  GuestTask,
  HostSpec,
  InstallPackageTask,
  KernelSpec,
  ModifyAccountTask,
  NetworkSpec,
  NicSpecInput,
  PackageManager,
  Range,
  RangeDescription,
  ReservationSpec,
} from "./description/types.ts";
export { DEFAULT_LIMITS, RANGE_NAMESPACE, RangeDescriptionError } from "./description/types.ts";
export { generatedMac } from "./description/expand.ts";
export { parseRangeDescription, validateRange } from "./description/parse.ts";
export type { ParseRangeOptions, ValidateOptions } from "./description/parse.ts";
