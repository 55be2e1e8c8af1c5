// The base range description the range-description tests edit (tests/range_description_test.ts and
// tests/range_description_strict_test.ts): two hosts, a NAT and an isolated network, one base image, and
// a guest with two instances. The tests name fields by the line they are on: keep the lines where they are.
import assert from "node:assert/strict";
import { parseRangeDescription, RangeDescriptionError } from "../lib/range/description.ts";

export const base: string = `name: lab
hosts:
  - id: h1
    uri: "test:///default"
  - id: h2
    uri: "test:///default"
storage:
  pool: default-pool
networks:
  - name: lab-a
    mode: nat
    subnet: 10.1.0.0/24
    dhcp: { start: 10.1.0.100, end: 10.1.0.200 }
  - name: lab-b
    mode: isolated
    subnet: 10.2.0.0/24
baseImages:
  - id: deb
    path: /images/deb.qcow2
guests:
  - id: web
    baseImage: deb
    memory: 128
    count: 2
    host: h1
    nics:
      - { network: lab-a, address: 10.1.0.10 }
      - { network: lab-b }
`;

/**
 * One broken description's refusal, as both files' tables check it: parseRangeDescription throws a
 * RangeDescriptionError with an issue whose message matches `pattern`, at field `path` and (when given)
 * on `line`. Returns the error and the issue for what a table checks besides.
 */
export function refusal(
  what: string,
  text: string,
  path: string,
  line: number | undefined,
  pattern: RegExp,
): { error: RangeDescriptionError; issue: RangeDescriptionError["issues"][number] } {
  let caught: unknown;
  try {
    parseRangeDescription(text, "lab.yaml");
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof RangeDescriptionError,
    `${what}: expected a RangeDescriptionError, got ${caught}`,
  );
  const issue = caught.issues.find((i) => pattern.test(i.message));
  assert.ok(issue, `${what}: no issue matches ${pattern}: ${caught.message}`);
  assert.equal(issue.path, path, `${what}: field (${caught.message})`);
  if (line !== undefined) assert.equal(issue.line, line, `${what}: line (${caught.message})`);
  return { error: caught, issue };
}
