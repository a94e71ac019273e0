/// <reference types="vite/client" />
/**
 * convex-test registration for every convex-opskit component.
 *
 * @example
 * import { convexTest } from "convex-test";
 * import opskit from "convex-opskit/test";
 * const t = convexTest(schema, modules);
 * opskit.registerAll(t);                 // authz, auditLog, migrations, rateLimiter
 * opskit.rateLimiter.register(t, "limits"); // or one component, under another name
 *
 * Production limits (see {@link withProductionLimits}):
 * const t = withProductionLimits(
 *   convexTest({ schema, modules, transactionLimits: true }),
 *   { schema },
 * );
 * opskit.registerAll(t); // every table of the app and of each component is
 *                        // checked after the test, or on demand: await t.checkLimits()
 */
import type { GenericSchema, SchemaDefinition } from "convex/server";
import {
  recordComponent,
  withScanModule,
  type AnyTestConvex,
} from "./testing/scan.js";
import { checkLimits, withProductionLimits } from "./testing/limits.js";
import authzSchema from "./authz/component/schema.js";
import auditLogSchema from "./auditLog/component/schema.js";
import migrationsSchema from "./migrations/component/schema.js";
import rateLimiterSchema from "./rateLimiter/component/schema.js";

function component(
  defaultName: string,
  schema: SchemaDefinition<GenericSchema, boolean>,
  componentModules: Record<string, () => Promise<unknown>>,
) {
  // The limits scan runs inside the component (its tables are only readable
  // there), so every component registered through this module carries it.
  const modules = withScanModule(componentModules);
  return {
    schema,
    modules,
    /**
     * Registers the component with a convex-test instance.
     * @param t - from `convexTest(schema, modules)`.
     * @param name - the instance name used in `app.use(..., { name })`.
     */
    register(t: AnyTestConvex, name: string = defaultName) {
      t.registerComponent(name, schema, modules);
      recordComponent(t, name, schema);
    },
  };
}

/** The authz component, for convex-test. */
export const authz = component(
  "authz",
  authzSchema,
  import.meta.glob("./authz/component/**/*.ts"),
);
/** The auditLog component, for convex-test. */
export const auditLog = component(
  "auditLog",
  auditLogSchema,
  import.meta.glob("./auditLog/component/**/*.ts"),
);
/** The migrations component, for convex-test. */
export const migrations = component(
  "migrations",
  migrationsSchema,
  import.meta.glob("./migrations/component/**/*.ts"),
);
/** The rateLimiter component, for convex-test. */
export const rateLimiter = component(
  "rateLimiter",
  rateLimiterSchema,
  import.meta.glob("./rateLimiter/component/**/*.ts"),
);

/** Registers all four components under their default names. */
export function registerAll(t: AnyTestConvex): void {
  for (const c of [authz, auditLog, migrations, rateLimiter]) c.register(t);
}

/**
 * Registers one component under its default name (or `name`), or all four when
 * `component` is omitted.
 */
export function register(
  t: AnyTestConvex,
  which?: "authz" | "auditLog" | "migrations" | "rateLimiter",
  name?: string,
): void {
  if (which === undefined) return registerAll(t);
  ({ authz, auditLog, migrations, rateLimiter })[which].register(t, name);
}

export {
  checkDocument,
  documentSize,
  MAX_ARRAY_LENGTH,
  MAX_DOCUMENT_BYTES,
  MAX_NESTING,
  SYSTEM_FIELDS_BYTES,
  type LimitViolation,
} from "./shared/limits.js";
export {
  checkLimits,
  LimitsExceededError,
  withProductionLimits,
  type LimitAllowance,
  type ProductionLimits,
  type ProductionLimitsOptions,
  type StoredLimitViolation,
} from "./testing/limits.js";

/**
 * Routing and silencing the components' log lines in tests: convex-test runs
 * the components in your test's process, so one sink receives the lines of
 * the clients and of the components alike.
 *
 * @example
 * import { silenceLogs, setLogSink } from "convex-opskit/test";
 * beforeAll(() => silenceLogs());            // no JSON lines in the test output
 * const lines: string[] = [];
 * const restore = setLogSink((line) => lines.push(line)); // or capture them
 */
export {
  configureLogs,
  consoleSink,
  setLogSink,
  silenceLogs,
  silentSink,
  type LogEvent,
  type LogOptions,
  type LogSink,
} from "./shared/log.js";

export default {
  authz,
  auditLog,
  migrations,
  rateLimiter,
  register,
  registerAll,
  withProductionLimits,
  checkLimits,
};
