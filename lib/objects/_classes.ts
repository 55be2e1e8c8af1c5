// Every module that adds its class to ObjectClasses (lib/objects/_types.ts), for the public entry points
// that do not load them all anyway: `import type {} from ".../objects/_classes.ts"` puts every entry in
// the type checker's program (type-only: nothing more is loaded or run), so a program that imports only
// lib/ip/mod.ts still sees `conn.interfaceLookupByName()` return an Interface, not an unresolved entry.
// tests/object_types_test.ts checks that each entry point reaches every module that adds an entry.
import type {} from "../connection.ts";
import type {} from "./domain.ts";
import type {} from "./domain_checkpoint.ts";
import type {} from "./interface.ts";
import type {} from "./network.ts";
import type {} from "./network_port.ts";
import type {} from "./node_device.ts";
import type {} from "./nwfilter.ts";
import type {} from "./secret.ts";
import type {} from "./snapshot.ts";
import type {} from "./storage.ts";
