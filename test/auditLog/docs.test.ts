/**
 * Keeps docs/auditLog.md honest: every statement line of its TypeScript
 * blocks must appear in withAuthz.ts, the app the other tests run.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";

const read = (p: string) => readFileSync(new URL(p, import.meta.url), "utf8");
const docs = read("../../docs/auditLog.md");
const app = read("./withAuthz.ts");

/** Lines that need the Convex bundler or a file of their own, not a test module. */
const OUTSIDE_TESTS = new Set([
  "const app = defineApp();",
  "app.use(authz);",
  "app.use(auditLog);",
  "export default app;",
  "export default crons;",
]);

const normalize = (line: string) => line.trim().replace(/\s+/g, " ");
const appLines = new Set(app.split("\n").map(normalize));

describe("docs/auditLog.md", () => {
  test("every TypeScript example line runs in the test app", () => {
    const blocks = [...docs.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const missing: string[] = [];
    for (const block of blocks)
      for (const raw of block.split("\n")) {
        const line = normalize(raw);
        if (line === "" || line.startsWith("//") || line.startsWith("import "))
          continue;
        if (/^[})\]];?,?$/.test(line) || line.startsWith("} from ")) continue;
        if (OUTSIDE_TESTS.has(line)) continue;
        if (!appLines.has(line)) missing.push(line);
      }
    expect(missing).toEqual([]);
  });
});
