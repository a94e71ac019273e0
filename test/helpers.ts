/**
 * Shared convex-test setup. A test file defines its app functions with
 * `queryGeneric`/`mutationGeneric`/`actionGeneric`, exports them, and passes
 * itself as a module (Vite's `import.meta.glob` never lists the importing
 * file): `import * as self from "./x.test.js"; opskitTest({ "./x.test.ts":
 * async () => self })`. Call them through `anyApi["x.test"].<name>`.
 */
import { afterEach, beforeEach } from "vitest";
import { convexTest } from "convex-test";
import {
  componentsGeneric,
  defineSchema,
  type GenericSchema,
  type SchemaDefinition,
} from "convex/server";
import { registerAll, withProductionLimits } from "../src/test.js";
// The public way to route the log lines, as a user's tests would.
import { setLogSink } from "convex-opskit/test";
import type { ComponentApi as AuthzApi } from "../src/authz/component/_generated/component.js";
import type { ComponentApi as AuditLogApi } from "../src/auditLog/component/_generated/component.js";
import type { ComponentApi as MigrationsApi } from "../src/migrations/component/_generated/component.js";
import type { ComponentApi as RateLimiterApi } from "../src/rateLimiter/component/_generated/component.js";

/** The four components as an app that installed them sees them. */
export const components = componentsGeneric() as unknown as {
  authz: AuthzApi<"authz">;
  auditLog: AuditLogApi<"auditLog">;
  migrations: MigrationsApi<"migrations">;
  rateLimiter: RateLimiterApi<"rateLimiter">;
};

/**
 * A convex-test instance with all four components registered, under
 * production limits: convex-test's `transactionLimits` on, and every table of
 * the app and of each component checked against the document limits after
 * the test (`withProductionLimits` from `convex-opskit/test`).
 * @param modules - the app's modules, keyed like `import.meta.glob` keys them (`"./x.test.ts"`).
 * @param schema - the test app's schema (defaults to an empty one).
 */
export function opskitTest<
  Schema extends SchemaDefinition<GenericSchema, boolean>,
>(modules: Record<string, () => Promise<unknown>>, schema?: Schema) {
  const appSchema = schema ?? (defineSchema({}) as Schema);
  const t = withProductionLimits(
    convexTest({
      schema: appSchema,
      modules: {
        ...modules,
        // convex-test locates the app's root by its _generated folder.
        "./_generated/api.ts": async () => ({}),
      },
      transactionLimits: true,
    }),
    { schema: appSchema },
  );
  registerAll(t);
  return t;
}

/**
 * Captures the structured log lines of each test: the returned array is
 * emptied before every test and receives each line, parsed; the previous sink
 * is restored after the test.
 */
export function captureLogs(): Array<Record<string, unknown>> {
  const logs: Array<Record<string, unknown>> = [];
  let restore = () => {};
  beforeEach(() => {
    logs.length = 0;
    restore = setLogSink((line) => logs.push(JSON.parse(line)));
  });
  afterEach(() => restore());
  return logs;
}

/**
 * The function clock may run ahead of the test's fake clock: convex-test 0.0.71 and newer start a
 * function at the later of the fake clock and the last commit time, so after a commit in the same
 * fake millisecond the function sees `Date.now()` up to 1 ms later than the test does (a real
 * deployment has the same property). Documented guarantees are stated in function time
 * (docs/rateLimiter.md "What retryAfter guarantees"); a test that compares against the test's own
 * clock allows exactly this much.
 */
export const FUNCTION_CLOCK_SLACK_MS = 1;

/**
 * An asymmetric matcher for a number within `slack` of `expected` (inclusive), for times and
 * durations computed by a function whose clock may be up to {@link FUNCTION_CLOCK_SLACK_MS} ahead
 * of the test's. Pass `slack` explicitly for derived amounts (e.g. a refill rate per ms).
 */
export function near(
  expected: number,
  slack: number = FUNCTION_CLOCK_SLACK_MS,
) {
  return {
    asymmetricMatch: (actual: unknown) =>
      typeof actual === "number" && Math.abs(actual - expected) <= slack + 1e-9,
    toString: () => `near(${expected} ± ${slack})`,
    toAsymmetricMatcher: () => `near(${expected} ± ${slack})`,
  };
}
