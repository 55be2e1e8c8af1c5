/**
 * @internal The CyRIS translation: read strictly (every field known, every reference resolved, every
 * problem located in the CyRIS file itself), translated field by field, what does not translate named
 * in a note with its value, then the result validated as a range description, with the validator's
 * findings mapped back to the CyRIS field they came from.
 *
 * @module
 */
import { parseYaml, toYaml, YAML_DEFAULT_LIMITS, YamlError } from "../_yaml.ts";
import { Checker, type Obj, type Path, pathText } from "../description/checker.ts";
import { validateRange } from "../description/parse.ts";
import {
  DEFAULT_LIMITS,
  type DescriptionIssue,
  type GuestSpec,
  type NetworkSpec,
  type RangeDescription,
  RangeDescriptionError,
} from "../description/types.ts";
import { cyrisTasks, type Origin } from "./tasks.ts";
import { cyrisTopology, suggest, text_ } from "./topology.ts";

/** Options for {@link cyrisToRange}. */
export interface CyrisOptions {
  /** libvirt URI per CyRIS host id; default `qemu:///system` for localhost, else `qemu+ssh://account@mgmt_addr/system`. */
  uris?: Record<string, string>;
  /** Base image path per CyRIS guest id; default: `basevm_config_file` with `.xml` replaced by `.qcow2`. */
  images?: Record<string, string>;
  /** The storage pool for the overlays. Default "default". */
  pool?: string;
  /** Memory of each guest, MiB. Default 1024. */
  memoryMiB?: number;
  /** The first two octets of the generated /24 subnets. Default "10.200". */
  subnetPrefix?: string;
  /** How errors name the CyRIS file. Default "CyRIS description". */
  source?: string;
}

/** What {@link cyrisToRange} made. */
export interface CyrisTranslation {
  /** Our description, ready for validateRange / the YAML below. */
  description: RangeDescription;
  /** The same as YAML text, for parseRangeDescription (line numbers then refer to it). */
  yaml: string;
  /** What was translated approximately or left out, and why, each with the CyRIS value. */
  notes: string[];
}

const SECTIONS = ["host_settings", "guest_settings", "clone_settings"];
const safe = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[._-]/, "x");

/** A CyRIS guest_settings entry: its base image and tasks. */
interface Base {
  id: string;
  image: { id: string; path: string; format: string };
  tasks: ReturnType<typeof cyrisTasks>;
  basevmHost?: string;
  path: Path;
}

/** What the clone hosts add to: the translation so far. */
interface CloneState {
  c: Checker;
  text: string;
  options: CyrisOptions;
  notes: string[];
  origins: Map<string, Origin>;
  hostIds: Map<string, { uri: string }>;
  bases: Map<string, Base>;
  name: string;
  prefix: string;
  networks: NetworkSpec[];
  guests: GuestSpec[];
}

/**
 * Translates a CyRIS description into a range description.
 *
 * @param text the CyRIS YAML
 * @param options URIs, image paths, pool, memory, subnets, the file's name for errors
 * @returns the description (object and YAML) and notes on what did not translate one to one
 * @throws {RangeDescriptionError} listing every problem with the CyRIS file's own line and column:
 *   YAML syntax, unknown sections and fields (with "did you mean"), bad numbers, unknown guests,
 *   hosts and interfaces, interface numbers with gaps, refused features
 * @example
 * ```ts
 * import { cyrisToRange, RangeDescriptionError } from "@deno-libvirt/deno-libvirt/range";
 * const cyris = `
 * - host_settings: [{ id: host_1, mgmt_addr: localhost }]
 * - guest_settings: [{ id: desktop, basevm_config_file: /images/desktop.xml, basevm_type: kvm }]
 * - clone_settings:
 *   - range_id: 9
 *     hosts: [{ host_id: host_1, instance_numbr: 2, guests: [{ guest_id: desktop, number: 1 }] }]
 * `;
 * try {
 *   cyrisToRange(cyris, { source: "training.yml" });
 * } catch (error) {
 *   if (!(error instanceof RangeDescriptionError)) throw error;
 *   const { line, column, message } = error.issues[0];
 *   console.log(line, column, message); // 6 32 unknown field: did you mean "instance_number"?
 * }
 * ```
 */
export function cyrisToRange(text: string, options: CyrisOptions = {}): CyrisTranslation {
  const source = options.source ?? "CyRIS description";
  const parsed = readCyris(text, source);
  const c = new Checker(parsed.locate, DEFAULT_LIMITS);
  const fail = () => new RangeDescriptionError(source, c.issues, c.omitted);
  const notes: string[] = [];
  const origins = new Map<string, Origin>();

  const sections = cyrisSections(c, parsed.value);
  if (c.failed) throw fail();
  const { hostIds, hostsSpec } = hostSettings(c, sections, options, notes, origins);
  const bases = guestSettings(c, sections, options, notes, hostIds);

  // clone_settings
  const cs = sections.get("clone_settings")!;
  const clones = c.list(cs.value, cs.path, true, "clone setting (range_id, hosts)");
  if (clones.length > 1) {
    c.add([...cs.path, 1], "CyRIS instantiates one clone_settings entry per description: split the file");
  }
  const clone = c.object(clones[0], [...cs.path, 0], ["range_id", "hosts"], ["range_id", "hosts"]);
  if (!clone || c.failed) throw fail();
  const cp = [...cs.path, 0];
  const rangeId = clone.range_id;
  if (
    !(typeof rangeId === "number" && Number.isSafeInteger(rangeId) && rangeId >= 0) &&
    !(typeof rangeId === "string" && /^[A-Za-z0-9_-]{1,26}$/.test(rangeId))
  ) {
    c.add([...cp, "range_id"], `must be a whole number (or letters, digits, "_", "-"), got ${c.q(rangeId)}`);
  }
  const name = `cyris${String(rangeId)}`.slice(0, 32);
  const prefix = options.subnetPrefix ?? "10.200";
  const networks: NetworkSpec[] = [];
  const guests: GuestSpec[] = [];
  const cloneHosts = c.list(clone.hosts, [...cp, "hosts"], true, "host");
  const s: CloneState = { c, text, options, notes, origins, hostIds, bases, name, prefix, networks, guests };
  cloneHosts.forEach((h, hi) => cloneHost(s, cloneHosts.length, cp, h, hi));
  if (c.failed) throw fail();
  const usedBases = new Set(guests.map((g) => g.baseImage));
  const description: RangeDescription = {
    name,
    hosts: hostsSpec,
    storage: { pool: options.pool ?? "default" },
    networks,
    baseImages: [...bases.values()].map((b) => b.image).filter((i) => usedBases.has(i.id)),
    guests,
  };
  for (const b of bases.values()) {
    if (!usedBases.has(b.image.id)) notes.push(`guest ${b.id}: no clone_settings host clones it: left out`);
  }
  // the range validator's findings, moved to the CyRIS field each value came from
  try {
    validateRange(description, { source });
  } catch (error) {
    if (!(error instanceof RangeDescriptionError)) throw error;
    throw new RangeDescriptionError(source, error.issues.map((i) => relocate(i, origins, c)), error.omitted);
  }
  return { description, yaml: toYaml(description), notes: [...new Set(notes)] };
}

/** The CyRIS text parsed as YAML, or a located error: not text, too long, not YAML. */
function readCyris(text: string, source: string): ReturnType<typeof parseYaml> {
  if (typeof text !== "string") {
    throw new RangeDescriptionError(source, [{ path: "", message: `must be text, got ${typeof text}` }]);
  }
  if (text.length > DEFAULT_LIMITS.maxDocumentBytes) {
    throw new RangeDescriptionError(source, [{
      path: "",
      line: 1,
      column: 1,
      message: `the text is ${text.length} characters long, more than ${DEFAULT_LIMITS.maxDocumentBytes}`,
    }]);
  }
  let parsed;
  try {
    parsed = parseYaml(text, YAML_DEFAULT_LIMITS);
  } catch (error) {
    if (!(error instanceof YamlError)) throw error;
    throw new RangeDescriptionError(source, [{
      path: "",
      line: error.line,
      column: error.column,
      message: `not valid YAML: ${error.message}`,
    }]);
  }
  return parsed;
}

/** The sections: a list of one-key mappings (or one mapping with the three keys). */
function cyrisSections(c: Checker, doc: unknown): Map<string, { value: unknown; path: Path }> {
  const sections = new Map<string, { value: unknown; path: Path }>();
  const entries: [unknown, Path][] = Array.isArray(doc) ? doc.map((e, i) => [e, [i]]) : [[doc, []]];
  for (const [entry, ep] of entries) {
    const o = c.object(entry, ep, SECTIONS, []);
    if (!o) continue;
    for (const key of Object.keys(o)) {
      if (!SECTIONS.includes(key)) continue;
      if (sections.has(key)) c.add([...ep, key], `section ${key} appears twice: merge them`, true);
      else sections.set(key, { value: o[key], path: [...ep, key] });
    }
  }
  for (const key of SECTIONS) {
    if (!sections.has(key)) c.add([], `has no ${key} section`);
  }
  return sections;
}

/** host_settings: each host's id and URI. */
function hostSettings(
  c: Checker,
  sections: Map<string, { value: unknown; path: Path }>,
  options: CyrisOptions,
  notes: string[],
  origins: Map<string, Origin>,
): { hostIds: Map<string, { uri: string }>; hostsSpec: { id: string; uri: string }[] } {
  const hostIds = new Map<string, { uri: string }>();
  const hostsSpec: { id: string; uri: string }[] = [];
  const hs = sections.get("host_settings")!;
  c.list(hs.value, hs.path, true, "host").forEach((h, i) => {
    const p = [...hs.path, i];
    const o = c.object(h, p, ["id", "mgmt_addr", "virbr_addr", "account"], ["id"]);
    if (!o) return;
    const id = c.name(o.id, [...p, "id"], "host id");
    const mgmt = c.string(o.mgmt_addr, [...p, "mgmt_addr"]) ?? "localhost";
    const account = c.string(text_(o.account), [...p, "account"]);
    if (id === undefined) return;
    if (hostIds.has(id)) return c.add([...p, "id"], `duplicate host id ${c.q(id)}`);
    const local = mgmt === "localhost" || mgmt === "127.0.0.1";
    const given = options.uris?.[id];
    const uri = given ??
      (local ? "qemu:///system" : `qemu+ssh://${account ? `${account}@` : ""}${mgmt}/system`);
    if (given) {
      notes.push(
        `host ${id}: uri ${given} given; mgmt_addr ${c.q(mgmt)}${
          account ? ` and account ${c.q(account)}` : ""
        } are not used`,
      );
    } else if (local && account) {
      notes.push(`host ${id}: account ${c.q(account)} is not used: localhost is reached at qemu:///system`);
    }
    if (o.virbr_addr !== undefined) {
      notes.push(`host ${id}: virbr_addr ${c.q(o.virbr_addr)} is not used: each network has its own gateway`);
    }
    hostIds.set(id, { uri });
    origins.set(pathText(["hosts", hostsSpec.length]), { path: p, fields: { id: "id", uri: "mgmt_addr" } });
    hostsSpec.push({ id, uri });
  });
  return { hostIds, hostsSpec };
}

/** guest_settings: base images and their tasks. */
function guestSettings(
  c: Checker,
  sections: Map<string, { value: unknown; path: Path }>,
  options: CyrisOptions,
  notes: string[],
  hostIds: Map<string, { uri: string }>,
): Map<string, Base> {
  const bases = new Map<string, Base>();
  const gs = sections.get("guest_settings")!;
  c.list(gs.value, gs.path, true, "guest").forEach((g, i) => {
    const p = [...gs.path, i];
    const o = c.object(g, p, [
      "id",
      "ip_addr",
      "basevm_host",
      "basevm_config_file",
      "basevm_type",
      "basevm_os_type",
      "tasks",
    ], ["id"]);
    if (!o) return;
    const id = c.name(o.id, [...p, "id"], "guest id");
    if (id === undefined) return;
    if (bases.has(id)) return c.add([...p, "id"], `duplicate guest id ${c.q(id)}`);
    const basevmHost = c.string(o.basevm_host, [...p, "basevm_host"]);
    if (basevmHost !== undefined && !hostIds.has(basevmHost)) {
      c.add(
        [...p, "basevm_host"],
        `unknown host ${c.q(basevmHost)}: ${suggest(c, basevmHost, hostIds.keys())}`,
      );
    }
    const config = c.absolutePath(o.basevm_config_file, [...p, "basevm_config_file"]);
    const given = options.images?.[id];
    const path = given ?? (config ?? `/var/lib/libvirt/images/${id}.xml`).replace(/\.xml$/, "") + ".qcow2";
    if (!given) {
      notes.push(
        `guest ${id}: basevm_config_file ${
          c.q(o.basevm_config_file)
        } is a domain XML; its disk is assumed at ${c.q(path)} (pass images to override)`,
      );
    }
    const type = c.string(o.basevm_type, [...p, "basevm_type"]);
    if (type !== undefined && type !== "kvm") {
      c.add(
        [...p, "basevm_type"],
        `basevm_type ${c.q(type)} is refused: only kvm base images translate to libvirt guests`,
      );
    } else if (type !== undefined) {
      notes.push(`guest ${id}: basevm_type "kvm": its clones are KVM domains (type kvm on qemu hosts)`);
    }
    if (o.ip_addr !== undefined) {
      notes.push(
        `guest ${id}: ip_addr ${
          c.q(o.ip_addr)
        } (the base VM's management address) is not used: clones get theirs by DHCP`,
      );
    }
    const os = c.string(text_(o.basevm_os_type), [...p, "basevm_os_type"]);
    if (os !== undefined) notes.push(`guest ${id}: basevm_os_type ${c.q(os)} is not used by libvirt`);
    const tasks = cyrisTasks(c, o.tasks, [...p, "tasks"], id, notes);
    if (os !== undefined && /windows/i.test(os) && tasks.length > 0) {
      c.add(
        [...p, "tasks"],
        `tasks of a ${c.q(os)} guest are refused: range up runs them with /bin/sh through the guest agent`,
      );
    }
    bases.set(id, {
      id,
      image: { id: safe(id), path, format: "qcow2" },
      tasks,
      ...(basevmHost ? { basevmHost } : {}),
      path: p,
    });
  });
  return bases;
}

/** One clone_settings host: its guests and topology, instantiated `instance_number` times. */
function cloneHost(s: CloneState, hostCount: number, cp: Path, h: unknown, hi: number): void {
  const { c, text, notes, hostIds, bases } = s;
  const hp = [...cp, "hosts", hi];
  const o = c.object(h, hp, ["host_id", "instance_number", "guests", "topology"], ["host_id", "guests"]);
  if (!o) return;
  const ids = (c.string(o.host_id, [...hp, "host_id"]) ?? "").split(",").map((s) => s.trim()).filter(
    Boolean,
  );
  for (const id of ids) {
    if (!hostIds.has(id)) {
      c.add([...hp, "host_id"], `unknown host ${c.q(id)}: ${suggest(c, id, hostIds.keys())}`);
    }
  }
  if (ids.length > 1) {
    notes.push(`clone host ${c.q(o.host_id)}: instances are spread over ${ids.join(", ")} round-robin`);
  }
  const instances = o.instance_number === undefined
    ? 1
    : c.integer(o.instance_number, [...hp, "instance_number"], 1, 1000);
  const hostTag = hostCount > 1 ? `h${hi + 1}-` : "";
  // the guests of this clone host: id -> its entry
  const cloneGuests = cloneGuestsOf(c, notes, bases, o, hp);
  // the topology: networks and the NICs of each guest (./topology.ts)
  const { nets, nics } = cyrisTopology(c, text, hp, o.topology, cloneGuests, hostIds, notes);
  if (instances === undefined || ids.length === 0) return;
  for (let k = 1; k <= instances; k++) {
    addInstance(s, k, hostTag, instances, ids, { nets, nics }, cloneGuests);
  }
}

/** The guests of a clone host: id -> its entry. */
function cloneGuestsOf(
  c: Checker,
  notes: string[],
  bases: Map<string, Base>,
  o: Obj,
  hp: Path,
): Map<string, { o: Obj; path: Path }> {
  const cloneGuests = new Map<string, { o: Obj; path: Path }>();
  c.list(o.guests, [...hp, "guests"], true, "guest").forEach((g, gi) => {
    const gp = [...hp, "guests", gi];
    const go = c.object(g, gp, ["guest_id", "number", "entry_point", "forwarding_rules"], ["guest_id"]);
    if (!go) return;
    const gid = c.string(go.guest_id, [...gp, "guest_id"]);
    if (gid === undefined) return;
    if (!bases.has(gid)) {
      return c.add([...gp, "guest_id"], `unknown guest ${c.q(gid)}: ${suggest(c, gid, bases.keys())}`);
    }
    if (cloneGuests.has(gid)) return c.add([...gp, "guest_id"], `guest ${c.q(gid)} is listed twice here`);
    cloneGuests.set(gid, { o: go, path: gp });
    if (go.entry_point !== undefined && go.entry_point !== "yes" && typeof go.entry_point !== "boolean") {
      c.add([...gp, "entry_point"], `must be yes (or true/false), got ${c.q(go.entry_point)}`);
    } else if (go.entry_point === "yes" || go.entry_point === true) {
      notes.push(
        `guest ${gid}: entry_point ${c.q(go.entry_point)}: its clones are in the inventory group ` +
          "entry_point; the port forwarding CyRIS sets up from the host to the entry point's SSH is " +
          "refused (this range forwards no ports): trainees reach it by its address in the inventory",
      );
    }
    if (go.forwarding_rules !== undefined) {
      const rules = c.list(go.forwarding_rules, [...gp, "forwarding_rules"], false).map((r, ri) => {
        const ro = c.object(r, [...gp, "forwarding_rules", ri], ["rule"], ["rule"]);
        return ro?.rule;
      });
      notes.push(
        `guest ${gid}: forwarding_rules ${
          c.q(rules)
        } are refused: they are iptables rules CyRIS writes into ` +
          "the forwarding guest; give it an execute_program task that loads them",
      );
    }
  });
  return cloneGuests;
}

/** Instance `k` of a clone host: its networks and guests, added to the translation. */
function addInstance(
  s: CloneState,
  k: number,
  hostTag: string,
  instances: number,
  ids: string[],
  topology: ReturnType<typeof cyrisTopology>,
  cloneGuests: Map<string, { o: Obj; path: Path }>,
): void {
  const { options, notes, origins, bases, name, prefix, networks, guests } = s;
  const { nets, nics } = topology;
  const tag = `${hostTag}${instances > 1 ? `i${k}-` : ""}`;
  const netOf = new Map<string, string>();
  for (const net of nets) {
    const full = safe(`${name}-${tag}${net.name}`);
    const n = networks.length;
    netOf.set(net.name, full);
    origins.set(pathText(["networks", n]), { path: net.path, fields: { name: "name" } });
    networks.push({
      name: full,
      mode: "isolated",
      subnet: `${prefix}.${n}.0/24`,
      dhcp: { start: `${prefix}.${n}.100`, end: `${prefix}.${n}.250` },
    });
  }
  for (const [gid, entry] of cloneGuests) {
    const base = bases.get(gid)!;
    const at = guests.length;
    origins.set(pathText(["guests", at]), {
      path: entry.path,
      fields: { id: "guest_id", count: "number", host: "host_id" },
    });
    base.tasks.forEach((t, j) => origins.set(pathText(["guests", at, "tasks", j]), t.origin));
    const byEth = nics.get(gid) ?? new Map();
    guests.push({
      id: safe(`${tag}${gid}`),
      baseImage: base.image.id,
      memory: options.memoryMiB ?? 1024,
      count: (entry.o.number ?? 1) as number,
      host: ids[(k - 1) % ids.length],
      nics: [...byEth.keys()].sort((a, b) => a - b).map((e) => ({
        network: netOf.get(byEth.get(e)!.network)!,
      })),
      groups: [
        ...new Set([
          gid.replace(/[^A-Za-z0-9_]/g, "_").replace(/^[0-9]/, "_$&"),
          `instance_${k}`,
          ...(entry.o.entry_point === "yes" || entry.o.entry_point === true ? ["entry_point"] : []),
        ]),
      ],
      ...(base.tasks.length > 0
        ? { agent: true, tasks: base.tasks.map((t) => t.task) as unknown as GuestSpec["tasks"] }
        : {}),
    });
    if (base.basevmHost !== undefined && base.basevmHost !== ids[(k - 1) % ids.length]) {
      notes.push(
        `guest ${gid}: basevm_host ${base.basevmHost}: its base image ${base.image.path} must also exist on ${
          ids[(k - 1) % ids.length]
        }, which runs its clones`,
      );
    }
  }
}

/** Moves an issue of the translated description to the CyRIS field its value came from. */
function relocate(issue: DescriptionIssue, origins: Map<string, Origin>, c: Checker): DescriptionIssue {
  let best: string | undefined;
  for (const key of origins.keys()) {
    if (
      (issue.path === key || issue.path.startsWith(`${key}.`) || issue.path.startsWith(`${key}[`)) &&
      (best === undefined || key.length > best.length)
    ) best = key;
  }
  if (best === undefined) return { ...issue, message: `${issue.message} (in the translated description)` };
  const origin = origins.get(best)!;
  const field = /^\.([A-Za-z]+)/.exec(issue.path.slice(best.length))?.[1];
  const theirs = field === undefined ? undefined : origin.fields[field];
  const path = theirs === undefined ? origin.path : [...origin.path, theirs];
  const at = c.locate(path, false) ?? c.locate(origin.path, false);
  return {
    path: pathText(path),
    ...(at ?? {}),
    message: issue.message +
      (theirs === undefined && field !== undefined ? ` (translated field ${field})` : ""),
  };
}
