// Test-only third-party dependencies, pinned, in one place (as lib/_deps.ts does for the library).
// The TypeScript compiler, for its parser: tests/house_rules_test.ts measures functions and imports with it.
export { default as ts } from "npm:typescript@5.9.3";
