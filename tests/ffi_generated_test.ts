// The generated FFI layer: every symbol binds against the installed libvirt, optional symbols and the
// NotSupportedError they lead to, the lazily loaded libvirt-qemu, the API model and the generator's
// rules. (Struct layouts: ffi_struct_layout_test.ts; coverage: api_coverage_test.ts.)
import assert from "node:assert/strict";
import {
  buildApiModel,
  indexApiModel,
  loadApiModel,
  parseVersion,
  typedParamTypeOf,
} from "../lib/ffi/_gen/api_model.ts";
import { enumMemberNames, ffiArgType, generate, structLayout } from "../lib/ffi/_gen/generate.ts";
import { isLocal, returnOwnership } from "../lib/ffi/_gen/overrides.ts";
import { libvirtQemuSymbols, libvirtSymbols } from "../lib/ffi/_generated/symbols.ts";
import { FUNCTION_VERSIONS } from "../lib/ffi/_generated/versions.ts";
import { DomainState } from "../lib/ffi/_generated/enums.ts";
import { MigrateParams } from "../lib/ffi/_generated/typed_params.ts";
import { CONNECT_RO, CredentialType, SnapshotListFlag, UUID_STRING_BUFLEN } from "../lib/ffi/constants.ts";
import { libvirt, MINIMUM_LIBVIRT_VERSION } from "../lib/ffi/library.ts";
import { cFunctionName, libvirtSymbol, requireSymbol } from "../lib/ffi/optional.ts";
import { qemuLibraryPath } from "../lib/ffi/qemu_library.ts";
import { ErrorCode, NotSupportedError } from "../lib/errors.ts";
import { denoChildArgs, runDeno } from "./_helpers.ts";

const model = await loadApiModel();
const index = indexApiModel(model);
const fn = (name: string) => index.functions.get(name)!;

Deno.test("libvirt(): the connection-open path is bound at load, the rest on first use", () => {
  const symbols = libvirt().symbols;
  for (const key of ["virConnectOpenAuthAsync", "virConnCopyLastError", "virConnectCloseAsync"]) {
    assert.equal(typeof Object.getOwnPropertyDescriptor(symbols, key)?.value, "function", key);
  }
  // unbound: not an own property yet (the prototype binds it on first read), unless a test bound it
  const rare = Object.getOwnPropertyDescriptor(symbols, "virNodeGetSEVInfoAsync");
  assert.ok(rare === undefined || typeof rare.value === "function");
  assert.ok("virNodeGetSEVInfoAsync" in symbols);
  assert.equal(typeof symbols.virNodeGetSEVInfoAsync, "function");
  assert.equal(typeof Object.getOwnPropertyDescriptor(symbols, "virNodeGetSEVInfoAsync")?.value, "function");
});

Deno.test("libvirtSymbols: every generated symbol binds against the installed libvirt (optional ones null only when newer)", () => {
  const { symbols, version } = libvirt();
  const table = libvirtSymbols as Record<string, Deno.ForeignFunction>;
  let bound = 0;
  for (const key of Object.keys(table)) {
    const value = (symbols as Record<string, unknown>)[key];
    const since =
      parseVersion(FUNCTION_VERSIONS[cFunctionName(key) as keyof typeof FUNCTION_VERSIONS]).number;
    assert.equal(
      table[key].optional === true,
      since > MINIMUM_LIBVIRT_VERSION,
      `${key}: optional iff newer than 6.0.0`,
    );
    if (since <= version) {
      assert.equal(typeof value, "function", `${key} (since ${since}) should bind on libvirt ${version}`);
      bound++;
    } else {
      assert.equal(value, null, `${key} is newer than the installed libvirt`);
    }
  }
  assert.ok(bound >= 900, `only ${bound} symbols bound`);
});

Deno.test("libvirtSymbols: twins call the same C function, nonblocking; local calls have none", () => {
  const table = libvirtSymbols as Record<string, Deno.ForeignFunction>;
  assert.deepEqual(table.virDomainGetInfoAsync, {
    ...table.virDomainGetInfo,
    name: "virDomainGetInfo",
    nonblocking: true,
  });
  assert.equal(table.virDomainGetNameAsync, undefined);
  assert.equal(table.virDomainFreeAsync, undefined);
  assert.equal(table.virCopyLastErrorAsync, undefined);
  assert.ok(isLocal(fn("virConnectIsAlive")) && !isLocal(fn("virConnectGetType")));
  // the parameter conventions the object modules rely on
  assert.deepEqual(table.virDomainLookupByName.parameters, ["pointer", "buffer"]);
  assert.deepEqual(table.virConnectOpenAuth.parameters, ["buffer", "buffer", "u32"]);
  assert.deepEqual(table.virDomainInterfaceFree.parameters, ["pointer"]);
  assert.deepEqual(table.virDomainStatsRecordListFree.parameters, ["pointer"]);
  assert.deepEqual(table.virConnSetErrorFunc.parameters, ["pointer", "pointer", "function"]);
  assert.deepEqual(table.virNodeGetFreeMemory.result, "u64");
});

Deno.test("requireSymbol: a null symbol is a NotSupportedError naming the function and both versions", () => {
  const fake = { virDomainFDAssociateAsync: null, virDomainGetInfo: () => 0 };
  assert.equal(typeof requireSymbol(fake, "virDomainGetInfo", 8_000_000), "function");
  assert.throws(
    () => requireSymbol(fake, "virDomainFDAssociateAsync", 8_000_000),
    (error: unknown) => {
      assert.ok(error instanceof NotSupportedError);
      assert.equal(error.code, ErrorCode.NO_SUPPORT);
      assert.equal(
        error.message,
        "Cannot call virDomainFDAssociate: virDomainFDAssociate requires libvirt >= 9.0.0 (installed: 8.0.0)",
      );
      return true;
    },
  );
  assert.equal(typeof libvirtSymbol("virDomainGetInfoAsync"), "function");
});

Deno.test("libvirtQemu: libvirt-qemu.so.0 is mapped only on the first QEMU call, which then reaches libvirt", async () => {
  const fixture = new URL("./fixtures/qemu_lazy.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await runDeno(denoChildArgs("run", "--allow-all", fixture));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  const lines = stdout.trim().split("\n");
  assert.equal(lines[0], "before: loaded=false mapped=false");
  // the test driver does not implement monitor commands: VIR_ERR_NO_SUPPORT (3), an answer from libvirt
  assert.equal(lines[1], "after: loaded=true mapped=true rc=-1 code=3 async=-1");
  assert.equal(qemuLibraryPath("/opt/lv/lib/libvirt.so.0"), "/opt/lv/lib/libvirt-qemu.so.0");
  assert.equal(qemuLibraryPath("libvirt.so.0"), "libvirt-qemu.so.0");
  assert.ok("virDomainQemuAgentCommandAsync" in libvirtQemuSymbols);
});

Deno.test("generated constants keep the names the object modules import, with libvirt's values", () => {
  assert.equal(UUID_STRING_BUFLEN, 37);
  assert.equal(CONNECT_RO, 1);
  assert.equal(CredentialType.NOECHOPROMPT, 7);
  assert.equal(SnapshotListFlag.DESCENDANTS, 1);
  assert.equal(SnapshotListFlag.TOPOLOGICAL, 1024);
  assert.equal(DomainState.PMSUSPENDED, 7);
  assert.deepEqual(MigrateParams.BANDWIDTH, { field: "bandwidth", type: "ULLONG", since: "1.1.0" });
  assert.deepEqual(MigrateParams.MIGRATE_DISKS.multiple, true);
});

Deno.test("typedParamTypeOf: reads the value type from each phrasing libvirt's docs use", () => {
  assert.equal(typedParamTypeOf("The start time as VIR_TYPED_PARAM_ULLONG."), "ULLONG");
  assert.equal(typedParamTypeOf("inbound average of NIC bandwidth, as a uint."), "UINT");
  assert.equal(typedParamTypeOf("errors, as an llong."), "LLONG");
  assert.equal(typedParamTypeOf("the phase, with a type of ullong. For"), "ULLONG");
  assert.equal(typedParamTypeOf("The parameter has type int, when"), "INT");
  assert.equal(typedParamTypeOf("a base64-encoded VIR_TYPED_PARAM_STRING containing"), "STRING");
  assert.equal(typedParamTypeOf("certificate chain, as VIR_TYPED_PARAMS_STRING."), "STRING");
  assert.equal(typedParamTypeOf("VIR_TYPED_PARAM_STRING_OKAY is a flag"), undefined);
  assert.equal(typedParamTypeOf("how many pages to scan"), undefined);
});

Deno.test("buildApiModel: resolves enum aliases across the two descriptions, and names what is missing", () => {
  const libvirtXml = `<api name='libvirt'><symbols>
    <enum name='VIR_X_A' file='libvirt-host' value='4' value_bitshift='2' type='virX' version='1.0.0'/>
    <enum name='VIR_X_LAST' file='libvirt-host' value='5' type='virX' version='1.0.0'/>
    <function name='virXGet' file='libvirt-host' module='libvirt-host' version='6.10.0'>
      <info><![CDATA[Gets & returns.]]></info>
      <return type='char *' info='caller frees'/>
      <arg name='conn' type='virConnectPtr' info='the connection'/>
    </function></symbols></api>`;
  const qemuXml = `<api name='libvirt-qemu'><symbols>
    <enum name='VIR_Q_B' file='libvirt-qemu' value='VIR_X_A' type='virQ' version='1.0.0'/>
  </symbols></api>`;
  const small = buildApiModel({ libvirt: libvirtXml, "libvirt-qemu": qemuXml });
  assert.equal(small.enumValues.find((v) => v.name === "VIR_Q_B")!.value, 4);
  assert.equal(small.enums.find((e) => e.name === "virX")!.isFlags, true);
  assert.equal(small.enumValues.find((v) => v.name === "VIR_X_LAST")!.sentinel, true);
  const get = small.functions[0];
  assert.deepEqual([get.version, get.info, get.args[0].type], [
    { text: "6.10.0", number: 6_010_000 },
    "Gets & returns.",
    "virConnectPtr",
  ]);
  assert.equal(returnOwnership(get).kind, "free");
  assert.throws(
    () =>
      buildApiModel({ libvirt: "<api><symbols><enum name='A'/></symbols></api>", "libvirt-qemu": qemuXml }),
    /enum A has no "value"/,
  );
  assert.throws(
    () => buildApiModel({ libvirt: "<api/>", "libvirt-qemu": qemuXml }),
    /no <api><symbols> element/,
  );
});

Deno.test("generator rules: enum member names, argument types, struct layout with a union", () => {
  const names = enumMemberNames(index.enums.get("virDomainState")!);
  assert.equal(names.get("VIR_DOMAIN_RUNNING"), "RUNNING");
  assert.equal(
    enumMemberNames(index.enums.get("virNetworkXMLFlags")!).get("VIR_NETWORK_XML_INACTIVE"),
    "INACTIVE",
  );
  assert.equal(
    enumMemberNames(index.enums.get("virDomainPMSuspendedReason")!).get("VIR_DOMAIN_PMSUSPENDED_UNKNOWN"),
    "UNKNOWN",
  );
  const getInt = fn("virTypedParamsGetInt");
  assert.deepEqual(getInt.args.map((a) => ffiArgType(getInt, a.name, a.type, index)), [
    "pointer",
    "i32",
    "buffer",
    "buffer",
  ]);
  const peek = fn("virDomainBlockPeek");
  assert.equal(ffiArgType(peek, "buffer", "void *", index), "buffer");
  const layout = structLayout(index.structs.get("virTypedParameter")!, index);
  assert.equal(layout.size, 96);
  assert.equal(layout.fields.value.members!.s.offset, 88);
  assert.equal(returnOwnership(fn("virConnectGetType")).kind, "borrowed");
  assert.deepEqual(returnOwnership(fn("virDomainLookupByName")), {
    kind: "object",
    release: "virDomainFree",
  });
});

Deno.test("generate: deterministic, and the counts the issue asks for", () => {
  const a = generate(model);
  const b = generate(model);
  assert.deepEqual([...a.files.keys()], [...b.files.keys()]);
  for (const [name, text] of a.files) assert.equal(text, b.files.get(name), name);
  assert.equal(a.counts.functions, model.functions.length);
  assert.ok(a.counts.enumValues >= 950, `${a.counts.enumValues} enum values`);
  assert.equal(a.counts.headers, 15);
});

Deno.test("overrides: every entry names a function and argument libvirt declares (no stale overrides)", async () => {
  const o = await import("../lib/ffi/_gen/overrides.ts");
  const stale: string[] = [];
  const hasArg = (key: string) => {
    const [f, a] = key.split(".");
    return index.functions.get(f)?.args.some((arg) => arg.name === a) ?? false;
  };
  for (const key of [...o.IN_OUT_ARGS, ...Object.keys(o.ARG_FFI_TYPES), ...Object.keys(o.NULLABLE_ARGS)]) {
    if (!hasArg(key)) stale.push(key);
  }
  for (const [key, length] of Object.entries(o.ARRAY_LENGTHS)) {
    if (!hasArg(key) || !hasArg(`${key.split(".")[0]}.${length}`)) stale.push(`${key} -> ${length}`);
  }
  const names = [
    ...Object.keys(o.LOCAL_FUNCTIONS),
    ...Object.keys(o.RETURN_OWNERSHIP),
    ...Object.keys(o.FAILURE_RETURNS),
    ...Object.keys(o.SPECIAL_RETURNS),
    ...Object.values(o.OBJECT_RELEASE),
  ];
  for (const name of names) if (!index.functions.has(name)) stale.push(name);
  for (const entry of o.HAND_WRITTEN) {
    if (!model.functions.some((f) => entry.pattern.test(f.name))) stale.push(String(entry.pattern));
  }
  for (const pattern of o.LOCAL_PATTERNS) {
    if (!model.functions.some((f) => pattern.test(f.name))) stale.push(String(pattern));
  }
  assert.deepEqual(stale, []);
  // the derivations agree with the XML's own words where it has them
  const getVcpus = fn("virDomainGetVcpus");
  assert.equal(o.arrayLengthOf(getVcpus, getVcpus.args[1]), "maxinfo");
  const sendKey = fn("virDomainSendKey");
  assert.equal(o.arrayLengthOf(sendKey, sendKey.args.find((a) => a.name === "keycodes")!), "nkeycodes");
  const listAll = fn("virConnectListAllDomains");
  assert.deepEqual(o.outArrayOwnership(listAll.args[1]), { element: "virDomainFree", array: "free" });
  const dir = (f: string, a: string) => o.argDirection(fn(f), fn(f).args.find((arg) => arg.name === a)!);
  assert.deepEqual(
    [
      dir("virDomainGetState", "state"),
      dir("virDomainPinVcpu", "cpumap"),
      dir("virDomainSetBlkioParameters", "params"),
    ],
    ["out", "in", "in"],
  );
  assert.deepEqual(
    [dir("virDomainGetBlkioParameters", "params"), dir("virDomainGetBlkioParameters", "nparams")],
    ["out", "inout"],
  );
  assert.deepEqual([dir("virDomainSendKey", "keycodes"), dir("virDomainBlockPeek", "buffer")], ["in", "out"]);
  for (const key of Object.keys(o.ARG_DIRECTIONS)) assert.ok(hasArg(key), key);
  assert.equal(o.handWrittenModule("virStreamRecv"), "lib/objects/stream.ts");
  assert.equal(o.handWrittenModule("virDomainGetInfo"), undefined);
});
