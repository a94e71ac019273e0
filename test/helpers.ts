/**
 * Shared convex-test setup. A test file defines its app functions with
 * `queryGeneric`/`mutationGeneric`/`actionGeneric`, exports them, and passes
 * itself as a module (Vite's `import.meta.glob` never lists the importing
 * file): `import * as self from "./x.test.js"; opskitTest({ "./x.test.ts":
 * async () => self })`. Call them through `anyApi["x.test"].<name>`.
 */
import { afterEach, beforeEach, expect, vi } from "vitest";
import { convexTest } from "convex-test";
import { ConvexError, type Value } from "convex/values";
import {
  componentsGeneric,
  defineSchema,
  type GenericSchema,
  type SchemaDefinition,
} from "convex/server";
import { registerAll, withProductionLimits } from "convex-opskit/test";
// The public way to route the log lines, as a user's tests would.
import { setLogSink } from "convex-opskit/test";
import { isOpskitError, type OpskitErrorData } from "./internal.js";
import type { ComponentApi as AuthzApi } from "convex-opskit/authz/_generated/component.js";
import type { ComponentApi as AuditLogApi } from "convex-opskit/auditLog/_generated/component.js";
import type { ComponentApi as MigrationsApi } from "convex-opskit/migrations/_generated/component.js";
import type { ComponentApi as RateLimiterApi } from "convex-opskit/rateLimiter/_generated/component.js";

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

/**
 * Fake timers for every test of the file: before each test the clock is
 * faked and set to `start`, after it real timers come back.
 * @param start - the fake clock's time at the start of each test; `null`
 * starts it at the real time of that moment (for tests that only need timers
 * to run when told, not a fixed date).
 * @returns `advance(ms)`, which moves the fake clock (and runs due timers).
 */
export function fakeClock(
  start: Date | number | string | null = "2026-03-01T10:00:00Z",
) {
  beforeEach(() => {
    vi.useFakeTimers();
    if (start !== null)
      vi.setSystemTime(typeof start === "string" ? new Date(start) : start);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  return { advance: (ms: number) => vi.advanceTimersByTime(ms) };
}

/** A call under test: a promise, or a function that throws or returns one. */
export type Call = Promise<unknown> | (() => unknown);

/** Whatever `call` threw (or rejected with), `undefined` if it succeeded. */
export async function thrownBy(call: Call): Promise<unknown> {
  try {
    await (typeof call === "function" ? call() : call);
  } catch (e) {
    return e;
  }
  return undefined;
}

/**
 * The outcome of `call` as a string: `"ok"` if it succeeded, the `code` of
 * the convex-opskit `ConvexError` it threw, else `"plain: "` and the message
 * of whatever else it threw (which never equals a code).
 */
export async function codeOf(call: Call): Promise<string> {
  try {
    await (typeof call === "function" ? call() : call);
  } catch (e) {
    if (isOpskitError(e)) return e.data.code;
    return `plain: ${e instanceof Error ? e.message : String(e)}`.slice(0, 200);
  }
  return "ok";
}

/**
 * The `ConvexError` `call` threw; fails the test if it succeeded or threw
 * anything else.
 */
export async function convexErrorOf(
  call: Call,
): Promise<ConvexError<Record<string, Value>>> {
  const e = await thrownBy(call);
  if (e === undefined) throw new Error("expected the call to fail");
  expect(e).toBeInstanceOf(ConvexError);
  return e as ConvexError<Record<string, Value>>;
}

/**
 * The data (`{ code, message, ...details }`) of the convex-opskit
 * `ConvexError` `call` threw; fails the test if it succeeded or threw
 * anything else (the other error is rethrown as it came).
 */
export async function errorOf(
  call: Call,
): Promise<OpskitErrorData & Record<string, unknown>> {
  const e = await thrownBy(call);
  if (e === undefined) throw new Error("expected the call to fail");
  if (!isOpskitError(e)) throw e;
  return e.data;
}
