// The generated struct layouts (lib/ffi/_generated/structs.ts) against the C compiler: a C program,
// written from the layouts themselves, prints sizeof, _Alignof, offsetof and the size of every field
// (union members included) of every public struct, compiled with gcc against the installed
// <libvirt/libvirt.h> and <libvirt/libvirt-qemu.h>.
import assert from "node:assert/strict";
import { type FieldLayout, structLayouts } from "../lib/ffi/_generated/structs.ts";

function cProgram(): { source: string; expected: string[] } {
  const lines: string[] = [];
  const expected: string[] = [];
  for (const [name, layout] of Object.entries(structLayouts)) {
    const type = `struct ${layout.tag}`;
    lines.push(`  printf("%s %zu %zu\\n", "${name}", sizeof(${type}), _Alignof(${type}));`);
    expected.push(`${name} ${layout.size} ${layout.align}`);
    const fields = Object.entries(layout.fields) as [string, FieldLayout][];
    for (const [field, f] of fields) {
      const members = (f.members ?? {}) as Record<string, FieldLayout>;
      for (
        const [path, m] of [[field, f], ...Object.entries(members).map(([k, v]) => [`${field}.${k}`, v])] as [
          string,
          FieldLayout,
        ][]
      ) {
        lines.push(
          `  printf("%s.%s %zu %zu\\n", "${name}", "${path}", offsetof(${type}, ${path}), sizeof(((${type} *)0)->${path}));`,
        );
        expected.push(`${name}.${path} ${m.offset} ${m.size}`);
      }
    }
  }
  const source = [
    "#include <stdio.h>",
    "#include <stddef.h>",
    "#include <libvirt/libvirt.h>",
    "#include <libvirt/virterror.h>",
    "#include <libvirt/libvirt-qemu.h>",
    "int main(void) {",
    ...lines,
    "  return 0;",
    "}",
  ].join("\n");
  return { source, expected };
}

Deno.test("structLayouts: every generated size, alignment and offset matches gcc's for libvirt's headers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "deno_libvirt_layout_" });
  try {
    const { source, expected } = cProgram();
    await Deno.writeTextFile(`${dir}/layout.c`, source);
    const cc = await new Deno.Command("gcc", {
      args: ["-Wall", "-Werror", "-Wno-deprecated-declarations", "-o", `${dir}/layout`, `${dir}/layout.c`],
      stderr: "piped",
    }).output();
    assert.ok(cc.success, `gcc failed: ${new TextDecoder().decode(cc.stderr)}`);
    const run = await new Deno.Command(`${dir}/layout`, { stdout: "piped" }).output();
    assert.ok(run.success);
    const actual = new TextDecoder().decode(run.stdout).trim().split("\n");
    assert.ok(Object.keys(structLayouts).length >= 30, "expected every public struct");
    assert.deepEqual(actual, expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("structLayouts: the hand-written decoders' offsets agree with the generated layouts", () => {
  assert.equal(structLayouts.virDomainInfo.size, 40);
  assert.equal(structLayouts.virDomainInfo.fields.cpuTime.offset, 32);
  assert.equal(structLayouts.virError.size, 80);
  assert.equal(structLayouts.virError.fields.level.offset, 16);
  assert.equal(structLayouts.virTypedParameter.size, 96);
  assert.equal(structLayouts.virTypedParameter.fields.value.offset, 88);
  assert.equal(structLayouts.virNetworkDHCPLease.size, 72);
  assert.equal(structLayouts.virDomainInterface.fields.addrs.offset, 24);
});
