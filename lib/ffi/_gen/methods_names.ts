// The object classes the method stage generates bases for, and the names and doc text it writes: method
// names from C names, identifiers, JSDoc sentences from libvirt's comments, the generated files' header.

/** An object class the stage generates a base for. */
export interface ObjectSpec {
  /** The C pointer type of the first argument: "virDomainPtr". */
  cType: string;
  /** The public class: "Domain". */
  className: string;
  /** The generated base class: "DomainCalls". */
  baseName: string;
  /** lib/objects/_generated/<file>.ts */
  file: string;
  /** C prefixes stripped from names, longest first: ["DomainSnapshot", "Domain"]. */
  prefixes: string[];
  /** Where the hand-written class lives (for the collision check and type imports), from lib/. */
  module: string;
}

/** Every object class the stage generates a base for, with its C type, files and name prefixes. */
export const objects: ObjectSpec[] = [
  ["virConnectPtr", "Connection", "connection", ["Connect"], "connection.ts"],
  ["virDomainPtr", "Domain", "domain", ["Domain"], "objects/domain.ts"],
  ["virNetworkPtr", "Network", "network", ["Network"], "objects/network.ts"],
  ["virNetworkPortPtr", "NetworkPort", "network_port", ["NetworkPort"], "objects/network_port.ts"],
  ["virStoragePoolPtr", "StoragePool", "storage_pool", ["StoragePool"], "objects/storage.ts"],
  ["virStorageVolPtr", "StorageVolume", "storage_volume", ["StorageVol"], "objects/storage.ts"],
  [
    "virDomainSnapshotPtr",
    "DomainSnapshot",
    "domain_snapshot",
    ["DomainSnapshot", "Domain"],
    "objects/snapshot.ts",
  ],
  [
    "virDomainCheckpointPtr",
    "DomainCheckpoint",
    "domain_checkpoint",
    ["DomainCheckpoint", "Domain"],
    "objects/domain_checkpoint.ts",
  ],
  ["virNWFilterPtr", "NWFilter", "nwfilter", ["NWFilter"], "objects/nwfilter.ts"],
  [
    "virNWFilterBindingPtr",
    "NWFilterBinding",
    "nwfilter_binding",
    ["NWFilterBinding"],
    "objects/nwfilter.ts",
  ],
  ["virSecretPtr", "Secret", "secret", ["Secret"], "objects/secret.ts"],
  ["virNodeDevicePtr", "NodeDevice", "node_device", ["NodeDevice"], "objects/node_device.ts"],
  ["virInterfacePtr", "Interface", "interface", ["Interface"], "objects/interface.ts"],
].map(([cType, className, file, prefixes, module]) => ({
  cType: cType as string,
  className: className as string,
  baseName: `${className}Calls`,
  file: file as string,
  prefixes: prefixes as string[],
  module: module as string,
}));

/** The object classes by C pointer type (`virDomainPtr` -> Domain). */
export const objectByType = new Map(objects.map((o) => [o.cType, o]));

// ---------------------------------------------------------------------------------------------------
// Names

/** Splits a C name into words: "GetDHCPLeases" -> ["Get", "DHCP", "Leases"]. */
function words(name: string): string[] {
  return name.match(/[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+/g) ?? [name];
}

/** lowerCamelCase with acronyms as words: ["Get","DHCP","Leases"] -> "getDhcpLeases". */
function camel(parts: string[]): string {
  return parts.map((w, i) => {
    const lower = w.toLowerCase();
    return i === 0 ? lower : lower[0].toUpperCase() + lower.slice(1);
  }).join("");
}

/** The method name for a function on an object. */
export function methodName(fn: string, object: ObjectSpec): string {
  let rest = fn.replace(/^vir/, "");
  for (const prefix of object.prefixes) {
    if (rest.startsWith(prefix) && /^[A-Z0-9]/.test(rest.slice(prefix.length))) {
      rest = rest.slice(prefix.length);
      break;
    }
  }
  return camel(words(rest));
}

/** UpperCamelCase with acronyms as words: "DomainGetDHCP" -> "DomainGetDhcp". */
export function pascal(name: string): string {
  const c = camel(words(name));
  return c[0].toUpperCase() + c.slice(1);
}

/** A C argument name as a TypeScript identifier (reserved words get a trailing `_`). */
export function ident(name: string): string {
  const reserved = new Set([
    "function",
    "default",
    "delete",
    "new",
    "class",
    "in",
    "var",
    "type",
    "interface",
  ]);
  return reserved.has(name) ? `${name}_` : name;
}

/** The first sentence of libvirt's doc, made safe inside a JSDoc comment (the method's summary). */
export function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const m = flat.match(/^(.*?[.!?])(\s|$)/);
  const s = (m ? m[1] : flat) || "Calls the libvirt function.";
  return s.replaceAll("*/", "* /").replace(/@(\w+)/g, "`$1`").replaceAll("@", "(at)");
}

/** libvirt's doc on one line, made safe inside a JSDoc comment. */
export function docText(text: string): string {
  return text.replace(/\s+/g, " ").trim().replaceAll("*/", "* /").replace(/@(\w+)/g, "`$1`").replaceAll(
    "@",
    "(at)",
  );
}

/** Whether an argument's doc says NULL is allowed (the parameter becomes optional or `| null`). */
export function isNullable(info: string): boolean {
  return /\bNULL\b/.test(info) &&
    /(may|can|or|optional|allowed|be) (be )?NULL|NULL (is|for|to|means|if|allowed)|or NULL|\bNULL\b/i.test(
      info,
    );
}

/** The first lines of every file the stage writes. */
export const HEADER =
  "// Generated by lib/ffi/_gen/generate_methods.ts from libvirt's API description: do not edit.\n" +
  "// deno-lint-ignore-file\n";
