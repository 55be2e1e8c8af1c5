// SHA-256 (FIPS 180-4), synchronous: for deriving identifiers from short strings in a loop, where
// WebCrypto's `crypto.subtle.digest` costs an async op per call (7% of a 1,000-guest down's profile).
// Checked against WebCrypto in tests/range_ownership_test.ts.

const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));

// one block schedule and state, reused (the function is synchronous, so never shared by two calls)
const w = new Uint32Array(64);
const h = new Uint32Array(8);
const INITIAL = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

/** Compresses the 64-byte block of `data` at `offset` into the state `state`. */
function compress(state: Uint32Array, data: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    w[i] = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
    const s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], hh = state[7];
  for (let i = 0; i < 64; i++) {
    const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += hh;
}

/**
 * The digest of a message whose first `before` bytes (a multiple of 64) are already compressed into
 * `state` (copied, not changed) and whose remaining bytes are `data`.
 */
function finish(state: ArrayLike<number>, before: number, data: Uint8Array): Uint8Array {
  const length = data.length;
  const blocks = Math.ceil((length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(data);
  padded[length] = 0x80;
  const bits = (before + length) * 8;
  const end = padded.length;
  const high = Math.floor(bits / 0x1_0000_0000);
  padded[end - 8] = high >>> 24;
  padded[end - 7] = high >>> 16;
  padded[end - 6] = high >>> 8;
  padded[end - 5] = high;
  padded[end - 4] = bits >>> 24;
  padded[end - 3] = bits >>> 16;
  padded[end - 2] = bits >>> 8;
  padded[end - 1] = bits;
  for (let i = 0; i < 8; i++) h[i] = state[i];
  for (let offset = 0; offset < end; offset += 64) compress(h, padded, offset);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    out[i * 4] = h[i] >>> 24;
    out[i * 4 + 1] = h[i] >>> 16;
    out[i * 4 + 2] = h[i] >>> 8;
    out[i * 4 + 3] = h[i];
  }
  return out;
}

/**
 * The SHA-256 digest of `data`.
 *
 * @param data the message
 * @returns the 32-byte digest
 */
export function sha256(data: Uint8Array): Uint8Array {
  return finish(INITIAL, 0, data);
}

/** At most this many first-block states a {@link PrefixedSha256} keeps (one per distinct opening bytes). */
const MAX_OPENINGS = 64;

/**
 * SHA-256 of many messages that share a prefix: `digest(rest)` is `sha256(prefix + rest)`. The
 * prefix's whole blocks are compressed once; when the prefix's last partial block needs at most 8 of
 * the rest's bytes to fill it (a 63-byte prefix: one), that block's state is kept per distinct opening
 * bytes, so messages whose rests start alike (a range's domain names) each compress one block fewer.
 */
export class PrefixedSha256 {
  readonly #whole: Uint32Array = new Uint32Array(INITIAL);
  readonly #done: number;
  readonly #tail: Uint8Array;
  readonly #need: number;
  readonly #openings = new Map<string, Uint32Array>();

  /** @param prefix the bytes every message starts with */
  constructor(prefix: Uint8Array) {
    this.#done = prefix.length - (prefix.length % 64);
    for (let offset = 0; offset < this.#done; offset += 64) compress(this.#whole, prefix, offset);
    this.#tail = prefix.slice(this.#done);
    this.#need = 64 - this.#tail.length;
  }

  /**
   * @param rest the bytes after the prefix
   * @returns the 32-byte digest of prefix + rest
   */
  digest(rest: Uint8Array): Uint8Array {
    const need = this.#need;
    if (this.#tail.length > 0 && need <= 8 && rest.length >= need) {
      let key = "";
      for (let i = 0; i < need; i++) key += String.fromCharCode(rest[i]);
      let state = this.#openings.get(key);
      if (state === undefined) {
        const block = new Uint8Array(64);
        block.set(this.#tail);
        block.set(rest.subarray(0, need), this.#tail.length);
        state = new Uint32Array(this.#whole);
        compress(state, block, 0);
        if (this.#openings.size < MAX_OPENINGS) this.#openings.set(key, state);
      }
      return finish(state, this.#done + 64, rest.subarray(need));
    }
    const data = new Uint8Array(this.#tail.length + rest.length);
    data.set(this.#tail);
    data.set(rest, this.#tail.length);
    return finish(this.#whole, this.#done, data);
  }
}
