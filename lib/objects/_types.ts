// The classes of libvirt's objects by name, for the modules below them. This module imports nothing, so
// every module may depend on it, and it is how the layers below the classes name them without importing
// them:
//
//   lib/connection.ts, lib/objects/<object>.ts      the classes (Connection, Domain, ...); each adds itself
//        | extends                                   to ObjectClasses (`declare module "./_types.ts"`)
//   lib/objects/_generated/<object>.ts               the generated bases: a method that returns a domain
//        | extends                                   is typed `ObjectClasses["Domain"]`
//   lib/_handle.ts (ObjectHandle)                    `handle.connection` is `ObjectClasses["Connection"]`
//        | imports
//   lib/objects/_types.ts (this module)              the registry, empty until the classes add themselves
//
// A class module adds its entry with a module augmentation (declaration merging) next to its class:
//
//   declare module "./_types.ts" {
//     interface ObjectClasses {
//       Domain: Domain;
//     }
//   }
//
// so `ObjectClasses["Domain"]` *is* the hand-written Domain class, with every method (generated,
// hand-written and inherited), not an interface narrower than it: `conn.domainLookupByName(name)` is a
// `Promise<Domain>` to the type checker, exactly as if the base imported Domain. The import graph stays
// acyclic (tests/house_rules_test.ts), as the runtime one always was (the generated methods build the
// objects through lib/objects/_registry.ts's factories).
//
// Why a registry and not generic bases (`DomainCalls<TSnapshot, ...>`): the classes name each other in
// both directions (`conn.domainLookupByName()` returns a Domain, `dom.connection` is a Connection;
// `dom.snapshotLookupByName()` returns a DomainSnapshot, `snapshot.domain` is a Domain), so whichever
// module binds the type parameters would import the other side and close the cycle again.
//
// What it costs: an entry exists only in a program that loads the class's module. Every public entry
// point does: mod.ts loads them all, and lib/ip/mod.ts, lib/range/mod.ts and lib/events.ts import
// ./_classes.ts type-only (nothing more runs); tests/object_types_test.ts checks each entry point. A
// program that imports a generated base or lib/connection.ts by itself sees "Property 'Domain' does not
// exist on type 'ObjectClasses'". And JSR's fast check refuses module augmentations
// (`unsupported-ambient-module`), so deno.json turns deno lint's no-slow-types off and the test asserts
// that the augmentations are the package's only slow types; the library is imported by URL, and
// publishing it on JSR would need `--allow-slow-types`.
//
// A new object class: its entry beside the class, a line in ./_classes.ts, a row in `objects` of
// lib/ffi/_gen/methods_names.ts (the generator names it through this registry by itself).

/**
 * The classes of libvirt's objects by name: `ObjectClasses["Domain"]` is the class {@link Domain}.
 * What the generated method bases ({@link DomainCalls}, {@link ConnectionCalls}, ...) return and take
 * is written this way (`Promise<ObjectClasses["Domain"]>` is a `Promise<Domain>`), because those bases
 * sit below the classes that extend them and cannot import them.
 *
 * Each class's module adds its entry when it is loaded (every entry point loads them all): `Connection`,
 * `Domain`, `DomainSnapshot`, `DomainCheckpoint`, `Network`, `NetworkPort`, `StoragePool`,
 * `StorageVolume`, `NWFilter`, `NWFilterBinding`, `Secret`, `NodeDevice` and `Interface`, each the class
 * of that name.
 *
 * @example
 * ```ts
 * import { Connection, type Domain, type ObjectClasses } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const dom: ObjectClasses["Domain"] = await conn.domainLookupByName("test");
 * using same: Domain = dom; // the same type: the Domain class
 * console.log(same.name); // test
 * ```
 */
// deno-lint-ignore no-empty-interface
export interface ObjectClasses {}
