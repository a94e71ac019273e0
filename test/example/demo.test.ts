// @vitest-environment node
/**
 * `npm run demo` is what a newcomer runs first: it must tell the whole story
 * and exit 0.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "vitest";

const repo = path.resolve(__dirname, "../..");

test("npm run demo prints the production day and exits 0", () => {
  const out = execFileSync("npm", ["run", "-s", "demo"], {
    cwd: repo,
    encoding: "utf8",
    stdio: "pipe",
  });
  for (const expected of [
    "RATE_LIMITED: retry in",
    'refused: FORBIDDEN — Missing permission "posts.write" for scope "team:globex"',
    "locked: retry in 15 min",
    "role: member → support",
    "(users.pinHash is redacted: the log holds [redacted])",
    "| true | 2                  | 0        |",
    "Bob's role is 'member' again",
    "| 2006    | 2006         | 0         | 0          |",
    "final: success, 2006 changed (dry run predicted 2006)",
    "pending migrations: 1 → 0",
    '{"event":"authz.deny"',
    '{"event":"rateLimiter.deny"',
    '{"event":"auditLog.write"',
    '{"event":"migrations.batch"',
  ])
    expect(out).toContain(expected);
});
