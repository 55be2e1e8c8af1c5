/**
 * Cyber ranges: a range description (ours or CyRIS's) brought up, inspected, snapshotted, reset and torn
 * down on one host or many, touching only what the range made. Import this entry point alone when a script
 * needs ranges but not the rest (`@deno-libvirt/deno-libvirt/range`); `mod.ts` re-exports it.
 *
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { downRange, parseRangeDescription, upRange } from "@deno-libvirt/deno-libvirt";
 *
 * const range = parseRangeDescription(`
 * name: doc
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: doc-lan, mode: isolated, subnet: 10.9.0.0/24, dhcp: { start: 10.9.0.100, end: 10.9.0.200 } }]
 * guests: [{ id: pc, memory: 64, count: 2, nics: [{ network: doc-lan }] }]
 * `, "doc.yaml");
 * await using pools = new PoolRegistry({ max: 4 });
 * const hold = await pools.get("test:///default").acquire(); // test:///default lives while a connection does
 * const up = await upRange(range, pools, { waitForAddresses: false });
 * console.log(up.created.length, "created");
 * await downRange(range, pools);
 * hold.release();
 * ```
 *
 * @module
 */
import type {} from "../objects/_classes.ts"; // every ObjectClasses entry, for the type checker only
export { type CyrisOptions, cyrisToRange, type CyrisTranslation } from "./cyris.ts";
export {
  type DescriptionIssue,
  type ExpandedGuest,
  type GuestSpec,
  type HostSpec,
  type NetworkSpec,
  parseRangeDescription,
  type Range,
  RANGE_NAMESPACE,
  type RangeDescription,
  RangeDescriptionError,
  validateRange,
} from "./description.ts";
export { downRange, type DownResult } from "./down.ts";
export { type PlanItem, type PlanOptions, planRange, type RangePlan } from "./plan.ts";
export {
  type RangeSnapshotOptions,
  type RangeSnapshotResult,
  resetRange,
  snapshotRange,
} from "./snapshot.ts";
export {
  type GuestStatus,
  type NicStatus,
  type RangeStatus,
  rangeStatus,
  type StatusOptions,
} from "./status.ts";
export {
  type RangeAction,
  type RangeHooks,
  RangeOperationError,
  type RangePhase,
  type RangeProgress,
} from "./types.ts";
export { type GuestAddress, type UpOptions, upRange, type UpResult } from "./up.ts";
export { type GuestConsole, type RangeConsoleOptions, RangeConsoles } from "./consoles.ts";
export {
  type BaseImageSpec,
  DEFAULT_LIMITS as DEFAULT_DESCRIPTION_LIMITS,
  type DescriptionLimits,
  type ExpandedNic,
  type KernelSpec,
  type NicSpecInput,
  type ParseRangeOptions,
  type ReservationSpec,
  type ValidateOptions,
} from "./description.ts";
// The inventory Ansible reads, and the range's picture (issue 14).
export {
  ansibleIni,
  ansibleYaml,
  type InventoryGroup,
  inventoryHost,
  inventoryJson,
  type InventoryOptions,
  type InventoryValue,
  type RangeInventory,
  rangeInventory,
} from "./inventory.ts";
export {
  graphDot,
  type GraphEdge,
  graphMermaid,
  type GraphNode,
  type RangeGraph,
  rangeGraph,
  renderSvg,
  type RenderSvgOptions,
} from "./graph.ts";
// guest tasks (accounts, files, programs, packages through the guest agent) and their playbook
export type {
  AddAccountTask,
  CopyContentTask,
  ExecuteProgramTask,
  GuestTask,
  InstallPackageTask,
  ModifyAccountTask,
  PackageManager,
} from "./description.ts";
export { GuestTaskError, type GuestTaskOptions, type GuestTaskReport, runGuestTasks } from "./tasks.ts";
export { type AnsiblePlay, rangePlaybook, rangePlaybookPlays } from "./playbook.ts";
// Base images to every host during `up` (images.ts)
export { type BaseImageOptions, type BaseImageOutcome, type BaseImageProgress } from "./images.ts";
// Range guests on the move: live migration between a range's hosts (migrate.ts)
export {
  type GuestLocation,
  locateGuest,
  type LocateOptions,
  type MigrateGuestOptions,
  type MigrateGuestResult,
  migrateRangeGuest,
} from "./migrate.ts";
// Range firewalls (lib/range/firewall.ts) and live network changes (lib/range/network_live.ts).
export type { FirewallRuleSpec } from "./description.ts";
export {
  type FirewallFilter,
  firewallFilterName,
  firewallFilters,
  firewallFilterXml,
  withFirewall,
} from "./firewall.ts";
export {
  type DhcpChanges,
  dhcpChanges,
  type DhcpHost,
  dhcpHostXml,
  type DhcpSyncResult,
  parseDhcpHosts,
  rangeDhcpHosts,
  syncDhcpHosts,
} from "./network_live.ts";
