/**
 * The production-limits harness of `convex-opskit/test`: `withProductionLimits`
 * and `checkLimits`, the per-instance state, allowances and the automatic check
 * after each test.
 */
import {
  type GenericQueryCtx,
  type GenericDataModel,
  type GenericSchema,
  type SchemaDefinition,
} from "convex/server";
import { afterEach, onTestFinished } from "vitest";
import { getCurrentTest } from "vitest/suite";
import type { LimitViolation } from "../shared/limits.js";
import {
  registeredComponents,
  scanReference,
  scanTablePage,
  withScanModule,
  type AnyTestConvex,
  type ScanPage,
} from "./scan.js";

/** A document that breaks a deployment's limits, as the scan found it. */
export type StoredLimitViolation = LimitViolation & {
  /** `""` for the app, else the component's name (`"auditLog"`). */
  component: string;
  /** The table. */
  table: string;
  /** The document's `_id`. */
  id: string;
};

/**
 * Lets one test keep documents that break a limit, on purpose (for example,
 * a test of what happens with data a deployment would have refused). Each
 * field narrows it; `reason` is required so the allowance says why. Made
 * inside a test (or its `beforeEach`), it applies to that test only, even
 * when the instance is shared by several tests; made outside any test (a
 * `describe` body, a module), to every test of the instance.
 */
export type LimitAllowance = {
  /** `""` for the app, else the component's name. Any when omitted. */
  component?: string;
  /** The table. Any when omitted. */
  table?: string;
  /** The rule. Any when omitted. */
  rule?: LimitViolation["rule"];
  /** Why this test keeps such data: shown nowhere, read by reviewers. */
  reason: string;
};

/** Options of {@link withProductionLimits}. */
export type ProductionLimitsOptions = {
  /** The app's schema: its tables are scanned. */
  schema?: SchemaDefinition<GenericSchema, boolean>;
  /** More app tables to scan (tables written without being in the schema). */
  tables?: string[];
  /**
   * Check after the test that creates `t`, after every test that calls a
   * function or `run` through it (wherever `t` was created: a test,
   * `beforeEach`, `beforeAll`, a `describe` body, a module) and, when `t` is
   * created in a `describe` body, after each test of that suite. Default
   * `true`; `false` on an instance already checked turns its automatic check
   * off.
   */
  afterEach?: boolean;
};

/** What {@link withProductionLimits} adds to a convex-test instance. */
export type ProductionLimits = {
  /** Scans every table of the app and of each component; throws {@link LimitsExceededError} naming each violation. */
  checkLimits(): Promise<void>;
  /** Scans every table of the app and of each component and returns what breaks a limit (after allowances). */
  scanLimits(): Promise<StoredLimitViolation[]>;
  /** Keeps matching violations from failing this instance's checks; see {@link LimitAllowance}. */
  allowLimitViolations(allowance: LimitAllowance): void;
};

/** Thrown by a limits check: `violations` lists each document, table, id and path. */
export class LimitsExceededError extends Error {
  /** Every violation found. */
  readonly violations: StoredLimitViolation[];
  constructor(violations: StoredLimitViolation[]) {
    const lines = violations.slice(0, 20).map(describeViolation);
    if (violations.length > 20)
      lines.push(`... and ${violations.length - 20} more`);
    super(
      `Production limits: ${violations.length} violation(s) a Convex deployment would refuse to store:\n` +
        lines.map((l) => `  - ${l}`).join("\n"),
    );
    this.name = "LimitsExceededError";
    this.violations = violations;
  }
}

function describeViolation(x: StoredLimitViolation): string {
  const where = `${x.component === "" ? "app" : `component ${x.component}`}, table ${x.table}, id ${x.id}, path ${x.path}`;
  const what =
    x.rule === "size"
      ? `document is ${x.actual} bytes (limit ${x.limit})`
      : x.rule === "array"
        ? `array has ${x.actual} elements (limit ${x.limit})`
        : `value nests ${x.actual} levels (limit ${x.limit})`;
  return `${where}: ${what}`;
}

type LimitsState = {
  /** Whether the automatic check (after the test) runs. */
  auto: boolean;
  appTables: Set<string>;
  components: Map<string, string[]>;
  /** Each allowance with the test it was made in (undefined: outside any test). */
  allowances: Array<{ allowance: LimitAllowance; test: object | undefined }>;
  /** Tests after which this instance's check is registered to run. */
  armedTests: WeakSet<object>;
  /** Tests after which this instance's check already ran. */
  checkedTests: WeakSet<object>;
  /** convex-test's own `query`, for the scan (not counted as the test's use). */
  query: AnyTestConvex["query"];
};

const limitsStates = new WeakMap<object, LimitsState>();

function tablesOf(schema: SchemaDefinition<GenericSchema, boolean>): string[] {
  return Object.keys(schema.tables);
}

async function scanAll(state: LimitsState): Promise<StoredLimitViolation[]> {
  const t = { query: state.query };
  const found: StoredLimitViolation[] = [];
  const scanTable = async (
    component: string,
    table: string,
    page: (after: number | null) => Promise<ScanPage>,
  ) => {
    let after: number | null = null;
    for (;;) {
      const result = await page(after);
      for (const violation of result.violations)
        found.push({ component, table, ...violation });
      if (result.next === null) return;
      after = result.next;
    }
  };
  for (const table of state.appTables) {
    await scanTable("", table, (after) =>
      t.query((ctx) =>
        scanTablePage(ctx as unknown as GenericQueryCtx<GenericDataModel>, {
          table,
          after,
        }),
      ),
    );
  }
  for (const [component, tables] of state.components) {
    const ref = scanReference(component);
    for (const table of tables) {
      await scanTable(component, table, (after) =>
        (t.query as (r: unknown, a: unknown) => Promise<ScanPage>)(ref, {
          table,
          after,
        }),
      );
    }
  }
  // Allowances made in another test do not apply to this one.
  const test = getCurrentTest();
  const allowances = state.allowances
    .filter((x) => x.test === undefined || x.test === test)
    .map((x) => x.allowance);
  return found.filter(
    (x) =>
      !allowances.some(
        (a) =>
          (a.component === undefined || a.component === x.component) &&
          (a.table === undefined || a.table === x.table) &&
          (a.rule === undefined || a.rule === x.rule),
      ),
  );
}

/** The methods of a convex-test instance that run functions or read and write its data. */
const USE_METHODS = [
  "query",
  "mutation",
  "action",
  "run",
  "fetch",
  "finishInProgressScheduledFunctions",
  "finishAllScheduledFunctions",
] as const;

/** Makes every call through `t` (and through `t.withIdentity(...)`) call `arm` first. */
function armCalls(t: object, arm: () => void): void {
  const target = t as Record<string, unknown>;
  for (const name of USE_METHODS) {
    const method = target[name];
    if (typeof method !== "function") continue;
    target[name] = (...args: unknown[]) => {
      arm();
      return (method as (...a: unknown[]) => unknown).apply(t, args);
    };
  }
  const withIdentity = target.withIdentity;
  if (typeof withIdentity === "function")
    target.withIdentity = (...args: unknown[]) => {
      const scoped = (withIdentity as (...a: unknown[]) => object).apply(
        t,
        args,
      );
      armCalls(scoped, arm);
      return scoped;
    };
}

/**
 * Turns on the production-limits check for a convex-test instance: every
 * table of the app (from `options.schema`) and of each component registered
 * through `convex-opskit/test` (or, after this call, through
 * `t.registerComponent`) is scanned after the test and on demand
 * (`await t.checkLimits()`), and the test fails naming component, table, id
 * and path of any document over 1 MiB, any array over 8,192 elements and any
 * value nested deeper than 16 levels — documents convex-test stores but a
 * deployment refuses. Pair it with convex-test's `transactionLimits: true`
 * for the per-transaction limits (bytes and documents read and written,
 * scheduled functions). Calling it twice on one instance is harmless.
 *
 * @example
 * const t = withProductionLimits(
 *   convexTest({ schema, modules, transactionLimits: true }),
 *   { schema },
 * );
 * opskit.registerAll(t);
 * await t.mutation(api.posts.create, { body: "x".repeat(2_000_000) });
 * await t.checkLimits(); // throws: app, table posts, id ..., path $: document is ... bytes
 */
export function withProductionLimits<T extends AnyTestConvex>(
  t: T,
  options: ProductionLimitsOptions = {},
): T & ProductionLimits {
  let state = limitsStates.get(t);
  const limited = t as T & ProductionLimits;
  if (state === undefined) {
    const tracked: LimitsState = {
      auto: options.afterEach !== false,
      appTables: new Set(),
      components: new Map(registeredComponents.get(t) ?? []),
      allowances: [],
      armedTests: new WeakSet(),
      checkedTests: new WeakSet(),
      query: t.query.bind(t),
    };
    state = tracked;
    limitsStates.set(t, tracked);
    const registerComponent = t.registerComponent.bind(t);
    // convex-test 0.0.71 returns the component's api here; 0.0.60 nothing.
    t.registerComponent = ((
      name: string,
      schema: SchemaDefinition<GenericSchema, boolean>,
      modules: Record<string, () => Promise<unknown>>,
    ) => {
      const registered: unknown = registerComponent(
        name,
        schema,
        withScanModule(modules),
      );
      tracked.components.set(name, tablesOf(schema));
      return registered;
    }) as T["registerComponent"];
    limited.scanLimits = () => scanAll(tracked);
    limited.checkLimits = async () => {
      const violations = await scanAll(tracked);
      if (violations.length > 0) throw new LimitsExceededError(violations);
    };
    limited.allowLimitViolations = (allowance) => {
      if (typeof allowance.reason !== "string" || allowance.reason === "")
        throw new Error(
          "allowLimitViolations: `reason` must say why this test keeps documents a deployment would refuse",
        );
      tracked.allowances.push({ allowance, test: getCurrentTest() });
    };
    const automaticCheck = async () => {
      if (!tracked.auto) return;
      // Registered both after each test of a suite and after each test that
      // used the instance: check once per test.
      const test = getCurrentTest();
      if (test !== undefined) {
        if (tracked.checkedTests.has(test)) return;
        tracked.checkedTests.add(test);
      }
      await limited.checkLimits();
    };
    // Checked after every test that uses the instance, wherever it was made
    // (a test, `beforeEach`, `beforeAll`, a `describe` body, a module).
    const arm = () => {
      const test = getCurrentTest();
      if (test === undefined || tracked.armedTests.has(test)) return;
      tracked.armedTests.add(test);
      try {
        onTestFinished(automaticCheck);
      } catch {
        // Too late in this test to register (its hooks are finishing): the
        // suite's check, or the next test's, covers what it wrote.
      }
    };
    armCalls(t, arm);
    try {
      arm();
      if (getCurrentTest() === undefined) afterEach(automaticCheck);
    } catch {
      // Not inside a test's run: the calls it makes arm the check.
    }
  } else if (options.afterEach !== undefined) {
    state.auto = options.afterEach;
  }
  if (options.schema)
    for (const table of tablesOf(options.schema)) state.appTables.add(table);
  for (const table of options.tables ?? []) state.appTables.add(table);
  return limited;
}

/**
 * Scans `t` once, now, and throws {@link LimitsExceededError} naming each
 * violation; the same as `withProductionLimits(t, options).checkLimits()`
 * without the automatic check after the test.
 */
export async function checkLimits(
  t: AnyTestConvex,
  options: Omit<ProductionLimitsOptions, "afterEach"> = {},
): Promise<void> {
  const state = limitsStates.get(t);
  const limited = withProductionLimits(t, {
    ...options,
    afterEach: state === undefined ? false : state.auto,
  });
  await limited.checkLimits();
}
