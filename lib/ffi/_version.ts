// The oldest libvirt the bindings support, in its own module so that the generator (lib/ffi/_gen/)
// can read it without loading the generated tables it is about to write.

/** The oldest libvirt the bindings are written for (Debian 11 ships 7.0; Ubuntu 20.04 ships 6.0). */
export const MINIMUM_LIBVIRT_VERSION = 6_000_000;
