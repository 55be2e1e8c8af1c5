/**
 * @internal SHA-crypt (`$5$` SHA-256, `$6$` SHA-512: Ulrich Drepper's "Unix crypt using SHA-256 and
 * SHA-512", the scheme glibc and busybox write into /etc/shadow), so that a guest task can tell
 * whether an account's password is already the one described without setting it again. Other schemes
 * (yescrypt `$y$`, bcrypt, MD5) are not computed here: {@link verifyShadowHash} answers undefined.
 *
 * @module
 */

const ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `bytes` repeated to `length` bytes. */
function stretch(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += bytes.length) {
    out.set(bytes.subarray(0, Math.min(bytes.length, length - i)), i);
  }
  return out;
}

function encode(c: Uint8Array, size: 32 | 64): string {
  let out = "";
  const put = (b2: number, b1: number, b0: number, n: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let i = 0; i < n; i++, w >>= 6) out += ALPHABET[w & 0x3f];
  };
  if (size === 64) {
    for (let k = 0; k < 21; k++) {
      const [a, b, d] = [c[k], c[k + 21], c[k + 42]];
      if (k % 3 === 0) put(a, b, d, 4);
      else if (k % 3 === 1) put(b, d, a, 4);
      else put(d, a, b, 4);
    }
    put(0, 0, c[63], 2);
  } else {
    for (let k = 0; k < 10; k++) {
      const [a, b, d] = [c[k], c[k + 10], c[k + 20]];
      if (k % 3 === 0) put(a, b, d, 4);
      else if (k % 3 === 1) put(d, a, b, 4);
      else put(b, d, a, 4);
    }
    put(0, c[31], c[30], 3);
  }
  return out;
}

/**
 * crypt(3) with `$5$` or `$6$`.
 *
 * @param password the password
 * @param setting `$6$salt`, `$6$rounds=N$salt` (a whole hash is accepted: its salt is used)
 * @returns the hash, e.g. `$6$salt$...`
 */
export async function shaCrypt(password: string, setting: string): Promise<string> {
  const m = /^\$([56])\$(rounds=(\d+)\$)?([^$]*)/.exec(setting);
  if (!m) {
    throw new TypeError(`Cannot compute crypt: ${JSON.stringify(setting.slice(0, 8))} is not $5$ or $6$`);
  }
  const size = m[1] === "6" ? 64 : 32;
  const algorithm = size === 64 ? "SHA-512" : "SHA-256";
  const rounds = m[3] === undefined ? 5000 : Math.min(999_999_999, Math.max(1000, Number(m[3])));
  const salt = new TextEncoder().encode(m[4]).subarray(0, 16);
  const p = new TextEncoder().encode(password);
  const h = async (...parts: Uint8Array[]) =>
    new Uint8Array(await crypto.subtle.digest(algorithm, concat(parts)));
  const b = await h(p, salt, p);
  const aParts: Uint8Array[] = [p, salt, stretch(b, p.length)];
  for (let n = p.length; n > 0; n >>= 1) aParts.push(n & 1 ? b : p);
  let c = await h(...aParts);
  const dp = await h(...Array(p.length).fill(p));
  const pp = stretch(dp, p.length);
  const ds = await h(...Array(16 + c[0]).fill(salt));
  const sp = stretch(ds, salt.length);
  for (let i = 0; i < rounds; i++) {
    const parts: Uint8Array[] = [i & 1 ? pp : c];
    if (i % 3) parts.push(sp);
    if (i % 7) parts.push(pp);
    parts.push(i & 1 ? c : pp);
    c = await h(...parts);
  }
  const prefix = `$${m[1]}$${m[3] === undefined ? "" : `rounds=${rounds}$`}${new TextDecoder().decode(salt)}`;
  return `${prefix}$${encode(c, size)}`;
}

/**
 * Whether `password` is the one an /etc/shadow hash stands for.
 *
 * @returns true or false for `$5$` and `$6$` hashes; undefined for schemes not computed here
 */
export async function verifyShadowHash(password: string, hash: string): Promise<boolean | undefined> {
  if (!/^\$[56]\$/.test(hash)) return undefined;
  return await shaCrypt(password, hash) === hash;
}
