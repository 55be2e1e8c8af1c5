// The event table (lib/ffi/symbols_event.ts) against libvirt's own API description: every event id of
// every family, each callback typedef's arguments, and each enum the decoders name. A hand edit that
// drifts from libvirt, or a libvirt that adds an event id, fails here.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  eventCallbackSignatures,
  eventEnums,
  eventFamilies,
  eventIds,
  memoryFailureFlags,
} from "../lib/ffi/symbols_event.ts";
import { workerDefinitions } from "../lib/_event_loop_worker.ts";
import type * as T from "../lib/events/types.ts";

const API_XML = "/usr/share/libvirt/api/libvirt-api.xml";

interface XmlEnum {
  name: string;
  type: string;
  value: number;
  info: string;
}

function readApi(): { enums: XmlEnum[]; functypes: Map<string, [string, string][]> } {
  if (!existsSync(API_XML)) {
    throw new Error(`Cannot check the event table: ${API_XML} is missing; install libvirt-dev`);
  }
  const xml = Deno.readTextFileSync(API_XML);
  const attr = (tag: string, name: string) => tag.match(new RegExp(`\\b${name}='([^']*)'`))?.[1] ?? "";
  const enums: XmlEnum[] = [];
  for (const [tag] of xml.matchAll(/<enum [^>]*>/g)) {
    const value = Number(attr(tag, "value"));
    if (!Number.isInteger(value)) continue;
    enums.push({ name: attr(tag, "name"), type: attr(tag, "type"), value, info: attr(tag, "info") });
  }
  const functypes = new Map<string, [string, string][]>();
  for (const [, name, body] of xml.matchAll(/<functype name='([^']+)'[^>]*>([\s\S]*?)<\/functype>/g)) {
    const args = [...body.matchAll(/<arg [^>]*>/g)].map(([tag]) =>
      [attr(tag, "type"), attr(tag, "name")] as [string, string]
    );
    functypes.set(name, args);
  }
  return { enums, functypes };
}

/** The kind name of a C constant: without the common prefix, lower case, `_` as `-`. */
function derivedNames(constants: string[]): string[] {
  const parts = constants.map((c) => c.split("_"));
  let common = 0;
  while (parts.every((p) => p.length > common + 1 && p[common] === parts[0][common])) common++;
  return parts.map((p) => p.slice(common).join("-").toLowerCase());
}

const api = readApi();
const enumsOf = (type: string) =>
  api.enums.filter((e) => e.type === type && !e.name.endsWith("_LAST")).sort((a, b) => a.value - b.value);

Deno.test("eventIds: every event id of libvirt-api.xml, with its value and callback typedef", () => {
  for (const [family, { idEnum }] of Object.entries(eventFamilies)) {
    const table = eventIds[family as keyof typeof eventIds] as Record<
      string,
      { id: number; callback: string }
    >;
    const xml = enumsOf(idEnum);
    assert.ok(xml.length > 0, `${idEnum} in ${API_XML}`);
    const names = derivedNames(xml.map((e) => e.name));
    assert.deepEqual(Object.keys(table).sort(), [...names].sort(), `${family}: the kinds are the XML's ids`);
    xml.forEach((e, i) => {
      assert.equal(table[names[i]].id, e.value, `${e.name}'s value`);
      assert.equal(table[names[i]].callback, e.info, `${e.name}'s callback typedef`);
    });
  }
  assert.equal(Object.keys(eventIds.domain).length, 27, "libvirt 9.0 has 27 domain event ids");
});

Deno.test("eventCallbackSignatures: each typedef's arguments as libvirt-api.xml declares them", () => {
  for (const [name, args] of Object.entries(eventCallbackSignatures)) {
    assert.deepEqual(args.map((a) => [...a]), api.functypes.get(name), name);
  }
  const used = new Set(Object.values(eventIds).flatMap((t) => Object.values(t).map((e) => e.callback)));
  assert.deepEqual([...used].sort(), Object.keys(eventCallbackSignatures).sort(), "every typedef is used");
});

Deno.test("eventEnums: every name list matches its C enum, value by value", () => {
  for (const [type, names] of Object.entries(eventEnums)) {
    const xml = enumsOf(type);
    assert.ok(xml.length > 0, `${type} in ${API_XML}`);
    const derived = derivedNames(xml.map((e) => e.name));
    xml.forEach((e, i) => assert.equal((names as readonly string[])[e.value], derived[i], `${e.name}`));
    assert.equal(names.length, Math.max(...xml.map((e) => e.value)) + 1, `${type}: no names past the enum`);
  }
  const flags = enumsOf("virDomainMemoryFailureFlags");
  assert.deepEqual(flags.map((f) => f.value), [
    memoryFailureFlags.actionRequired,
    memoryFailureFlags.recursive,
  ]);
});

Deno.test("workerDefinitions: the worker binds the main thread's own symbol definitions", async () => {
  const { libvirtSymbols } = await import("../lib/ffi/_generated/symbols.ts");
  const { symbols, callbacks } = workerDefinitions();
  for (const [name, definition] of Object.entries(symbols)) {
    // decoded from the compact table, as the main thread binds them: the object table's entry
    assert.deepEqual(definition, (libvirtSymbols as Record<string, unknown>)[name], name);
  }
  for (const { register, deregister } of Object.values(eventFamilies)) {
    assert.ok(register in symbols && deregister in symbols, `${register}/${deregister} bound in the worker`);
  }
  assert.deepEqual(
    callbacks.virConnectDomainEventGraphicsCallback.parameters,
    ["pointer", "pointer", "i32", "pointer", "pointer", "pointer", "pointer", "pointer"],
  );
  assert.deepEqual(callbacks.virConnectDomainEventBlockThresholdCallback.parameters.slice(4, 6), [
    "u64",
    "u64",
  ]);
});

// The literal unions lib/events/types.ts spells out for its documentation are exactly the table's names.
type Names<E extends keyof typeof eventEnums> = (typeof eventEnums)[E][number];
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function sameType<_T extends true>(): void {}
sameType<Exact<T.DomainLifecycleEventName, Names<"virDomainEventType">>>();
sameType<Exact<T.DomainDefinedDetail, Names<"virDomainEventDefinedDetailType">>>();
sameType<Exact<T.DomainUndefinedDetail, Names<"virDomainEventUndefinedDetailType">>>();
sameType<Exact<T.DomainStartedDetail, Names<"virDomainEventStartedDetailType">>>();
sameType<Exact<T.DomainSuspendedDetail, Names<"virDomainEventSuspendedDetailType">>>();
sameType<Exact<T.DomainResumedDetail, Names<"virDomainEventResumedDetailType">>>();
sameType<Exact<T.DomainStoppedDetail, Names<"virDomainEventStoppedDetailType">>>();
sameType<Exact<T.DomainShutdownDetail, Names<"virDomainEventShutdownDetailType">>>();
sameType<Exact<T.DomainPmSuspendedDetail, Names<"virDomainEventPMSuspendedDetailType">>>();
sameType<Exact<T.DomainCrashedDetail, Names<"virDomainEventCrashedDetailType">>>();
sameType<Exact<T.AgentLifecycleState | "unknown", Names<"virConnectDomainEventAgentLifecycleState">>>();
sameType<Exact<T.AgentLifecycleReason, Names<"virConnectDomainEventAgentLifecycleReason">>>();
sameType<Exact<T.WatchdogAction, Names<"virDomainEventWatchdogAction">>>();
sameType<Exact<T.IoErrorAction, Names<"virDomainEventIOErrorAction">>>();
sameType<Exact<T.GraphicsPhase, Names<"virDomainEventGraphicsPhase">>>();
sameType<Exact<T.GraphicsAddressFamily, Names<"virDomainEventGraphicsAddressType">>>();
sameType<Exact<T.BlockJobType, Names<"virDomainBlockJobType">>>();
sameType<Exact<T.BlockJobStatus, Names<"virConnectDomainEventBlockJobStatus">>>();
sameType<Exact<T.DiskChangeReason, Names<"virConnectDomainEventDiskChangeReason">>>();
sameType<Exact<T.TrayChangeReason, Names<"virDomainEventTrayChangeReason">>>();
sameType<Exact<T.MetadataType, Names<"virDomainMetadataType">>>();
sameType<Exact<T.MemoryFailureRecipient, Names<"virDomainMemoryFailureRecipientType">>>();
sameType<Exact<T.MemoryFailureAction, Names<"virDomainMemoryFailureActionType">>>();
sameType<Exact<T.NetworkLifecycleEventName, Names<"virNetworkEventLifecycleType">>>();
sameType<Exact<T.StoragePoolLifecycleEventName, Names<"virStoragePoolEventLifecycleType">>>();
sameType<Exact<T.NodeDeviceLifecycleEventName, Names<"virNodeDeviceEventLifecycleType">>>();
sameType<Exact<T.SecretLifecycleEventName, Names<"virSecretEventLifecycleType">>>();
sameType<Exact<T.SecretUsageType, Names<"virSecretUsageType">>>();
sameType<Exact<T.CloseReason, Names<"virConnectCloseReason">>>();
sameType<Exact<T.DomainEventKind, keyof typeof eventIds.domain>>();
sameType<Exact<T.NetworkEventKind, keyof typeof eventIds.network>>();
sameType<Exact<T.StoragePoolEventKind, keyof (typeof eventIds)["storage-pool"]>>();
sameType<Exact<T.NodeDeviceEventKind, keyof (typeof eventIds)["node-device"]>>();
sameType<Exact<T.SecretEventKind, keyof typeof eventIds.secret>>();
