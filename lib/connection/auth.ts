// The credentials side of an open: the types a caller answers libvirt's requests with, the check that
// refuses credentials C would cut short, and the bridge (a thread-safe callback and libvirt's auth struct)
// that answers libvirt's open thread. Apart from the connection because only Connection.open uses them,
// and the bridge is the one place here that copies strings into memory libvirt frees.
import { describeValue } from "../_args.ts";
import { mallocCString } from "../ffi/c.ts";
import { authCallbackDefinition, CredentialType } from "../ffi/constants.ts";
import { decodeCredential, encodeAuth, storeCredentialResult } from "../ffi/structs.ts";

/** The kinds of credential libvirt may ask for while opening a remote or authenticated URI. */
export type CredentialKind =
  | "username"
  | "authname"
  | "language"
  | "cnonce"
  | "passphrase"
  | "echoprompt"
  | "noechoprompt"
  | "realm";

const credentialKinds: Record<number, CredentialKind> = {
  [CredentialType.USERNAME]: "username",
  [CredentialType.AUTHNAME]: "authname",
  [CredentialType.LANGUAGE]: "language",
  [CredentialType.CNONCE]: "cnonce",
  [CredentialType.PASSPHRASE]: "passphrase",
  [CredentialType.ECHOPROMPT]: "echoprompt",
  [CredentialType.NOECHOPROMPT]: "noechoprompt",
  [CredentialType.REALM]: "realm",
};

/** One credential libvirt asks for. */
export interface Credential {
  /** What libvirt asks for (virConnectCredentialType): a user name, a passphrase, a realm, ... */
  kind: CredentialKind;
  /** libvirt's prompt text, e.g. "Please enter your authentication name". */
  prompt: string;
  /** The challenge text some SASL mechanisms send with the request, when libvirt gives one. */
  challenge?: string;
  /** What libvirt would use if no answer is given. */
  defaultResult?: string;
}

/**
 * Answers libvirt's credential requests, synchronously (libvirt's open thread waits for it).
 * Return one answer per credential (undefined: use libvirt's default), or null to cancel the open.
 */
export type AuthCallback = (credentials: readonly Credential[]) => readonly (string | undefined)[] | null;

/** Credentials for URIs that authenticate (SASL over qemu+tcp, the test driver's `<auth>`, ...). */
export interface AuthOptions {
  /** Answers "username" and "authname" requests. */
  username?: string;
  /** Answers "passphrase" and "noechoprompt" requests. */
  password?: string;
  /** Answers anything, overriding the two fields above; see {@link AuthCallback}. */
  callback?: AuthCallback;
}

/** What {@link authBridge} builds for one open; the open closes `callback` once libvirt returned. */
export interface AuthBridge {
  /** libvirt's virConnectAuth struct, pointing at `keepAlive` and the callback. */
  struct: Uint8Array<ArrayBuffer>;
  /** The credential type array the struct points at: must live until the open returned. */
  keepAlive: Int32Array;
  /** The thread-safe callback libvirt's open thread calls. */
  callback: Deno.UnsafeCallback<typeof authCallbackDefinition>;
  /** Why the bridge refused to answer, when it did (the open's error says so). */
  state: { cancelled?: string };
}

/** Builds the auth struct and the thread-safe callback that answers libvirt from `auth`. */
export function authBridge(auth: AuthOptions): AuthBridge {
  const state: { cancelled?: string } = {};
  const answer = (credentials: Credential[]): (string | undefined)[] | null => {
    if (auth.callback) return [...(auth.callback(credentials) ?? [])] as (string | undefined)[] | null;
    return credentials.map((c) => {
      if (c.kind === "username" || c.kind === "authname") return auth.username ?? c.defaultResult;
      if (c.kind === "passphrase" || c.kind === "noechoprompt") return auth.password;
      return c.defaultResult;
    });
  };
  const callback = Deno.UnsafeCallback.threadSafe(authCallbackDefinition, (array, count) => {
    if (array === null) return -1;
    try {
      const credentials: Credential[] = [];
      for (let i = 0; i < count; i++) {
        const raw = decodeCredential(array, i);
        credentials.push({
          kind: credentialKinds[raw.type] ?? "echoprompt",
          prompt: raw.prompt,
          ...(raw.challenge !== null ? { challenge: raw.challenge } : {}),
          ...(raw.defaultResult !== null ? { defaultResult: raw.defaultResult } : {}),
        });
      }
      const answers = answer(credentials);
      if (answers === null) {
        state.cancelled = "the auth callback cancelled";
        return -1;
      }
      // every answer is checked before any is handed to libvirt: a refusal leaves nothing allocated
      for (let i = 0; i < count; i++) {
        const value: unknown = answers[i];
        const c = credentials[i];
        if (value === undefined) {
          // libvirt would fail with "An error occurred, but the cause is unknown": say what is missing
          state.cancelled = `no answer for the ${c.kind} credential (${JSON.stringify(c.prompt)}); ` +
            (/Accept SSH host key/i.test(c.prompt)
              // libssh/libssh2 ask this for a host key missing from known_hosts
              ? `the host key is not in known_hosts: add it there, or answer "y" from an auth.callback ` +
                `after checking the hash`
              : `pass auth.${
                c.kind === "passphrase" || c.kind === "noechoprompt" ? "password" : "username"
              } or an auth.callback`);
          return -1;
        }
        if (typeof value !== "string") {
          state.cancelled = `the answer for the ${c.kind} credential must be a string, got ${typeof value}`;
          return -1;
        }
        if (value.includes("\0")) {
          // C would cut the answer at the NUL and authenticate with the rest: refuse instead
          state.cancelled = `the answer for the ${c.kind} credential contains a NUL character`;
          return -1;
        }
      }
      for (let i = 0; i < count; i++) {
        const copy = mallocCString(answers[i]!); // libvirt frees cred->result
        storeCredentialResult(array, i, copy.pointer, copy.length);
      }
      return 0;
    } catch (error) {
      // a throwing callback cancels the open rather than crossing the FFI boundary
      state.cancelled = `the auth callback threw: ${error instanceof Error ? error.message : String(error)}`;
      return -1;
    }
  });
  const { auth: struct, keepAlive } = encodeAuth(Object.keys(credentialKinds).map(Number), callback.pointer);
  return { struct, keepAlive, callback, state };
}

/** Refuses credentials C would cut short (a NUL ends a C string) or that are not strings at all. */
export function checkAuth(uri: string | null, auth: AuthOptions | undefined): void {
  if (auth === undefined) return;
  const where = `Cannot open connection to ${uri === null ? "libvirt's default URI" : JSON.stringify(uri)}`;
  if (auth === null || typeof auth !== "object") {
    throw new TypeError(`${where}: auth must be an object, got ${describeValue(auth)}`);
  }
  for (const field of ["username", "password"] as const) {
    const value: unknown = auth[field];
    if (value === undefined) continue;
    if (typeof value !== "string") {
      throw new TypeError(`${where}: auth.${field} must be a string, got ${describeValue(value)}`);
    }
    // the value itself is not quoted: it may be a secret
    if (value.includes("\0")) {
      throw new TypeError(`${where}: auth.${field} contains a NUL character, which libvirt would cut it at`);
    }
  }
  if (auth.callback !== undefined && typeof auth.callback !== "function") {
    throw new TypeError(`${where}: auth.callback must be a function, got ${describeValue(auth.callback)}`);
  }
}
