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
