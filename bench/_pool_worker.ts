// The Web Worker of bench/pool_workers.ts: one libvirt connection, blocking FFI calls, driven through a
// SharedArrayBuffer. Int32 slots: [0] the request's sequence number (-1: stop), [1] the answered one
// (-2: ready), [2] the call (1 lookup, 2 info of the looked-up domain, 3 lookup + info + free), [3] its
// result; a BigInt64 at byte 16: the looked-up domain's pointer.
/// <reference lib="deno.worker" />
const lib = Deno.dlopen(
  "libvirt.so.0",
  {
    virConnectOpen: { parameters: ["buffer"], result: "pointer" },
    virConnectClose: { parameters: ["pointer"], result: "i32" },
    virDomainLookupByName: { parameters: ["pointer", "buffer"], result: "pointer" },
    virDomainGetInfo: { parameters: ["pointer", "buffer"], result: "i32" },
    virDomainFree: { parameters: ["pointer"], result: "i32" },
  } as const,
);
const s = lib.symbols;
const cstr = (text: string) => new TextEncoder().encode(text + "\0");

self.onmessage = (event: MessageEvent<{ sab: SharedArrayBuffer; uri: string }>) => {
  const slots = new Int32Array(event.data.sab);
  const domain = new BigInt64Array(event.data.sab, 16, 1);
  const conn = s.virConnectOpen(cstr(event.data.uri));
  const name = cstr("test");
  const info = new Uint8Array(40);
  let last = 0;
  Atomics.store(slots, 1, conn === null ? -3 : -2);
  Atomics.notify(slots, 1);
  while (conn !== null) {
    Atomics.wait(slots, 0, last);
    const seq = Atomics.load(slots, 0);
    if (seq === -1) break;
    last = seq;
    const op = slots[2];
    if (op === 1) {
      domain[0] = BigInt(Deno.UnsafePointer.value(s.virDomainLookupByName(conn, name)));
    } else if (op === 2) {
      slots[3] = s.virDomainGetInfo(Deno.UnsafePointer.create(domain[0]), info);
    } else {
      const d = s.virDomainLookupByName(conn, name);
      slots[3] = d === null ? -1 : s.virDomainGetInfo(d, info);
      if (d !== null) s.virDomainFree(d);
    }
    Atomics.store(slots, 1, seq);
    Atomics.notify(slots, 1);
  }
  if (conn !== null) s.virConnectClose(conn);
  lib.close();
  self.close();
};
