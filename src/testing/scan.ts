/**
 * The production-limits scan of `convex-opskit/test`: the query installed (in
 * tests only) in every component registered through it, and the bookkeeping of
 * which components each convex-test instance registered.
 */
import type { TestConvex } from "convex-test";
import {
  componentsGeneric,
  queryGeneric,
  type GenericQueryCtx,
  type GenericDataModel,
  type GenericSchema,
  type SchemaDefinition,
} from "convex/server";
import { v, type Value } from "convex/values";
import {
  checkDocument,
  documentSize,
  type LimitViolation,
} from "../shared/limits.js";

/** The module name under which the limits scan query is installed in each component. */
const SCAN_MODULE = "_opskitLimits";

export type AnyTestConvex = TestConvex<
  SchemaDefinition<GenericSchema, boolean>
>;

/** Components registered through this module, per convex-test instance: the limits scan reads their tables. */
export const registeredComponents = new WeakMap<
  object,
  Map<string, string[]>
>();

export function recordComponent(
  t: AnyTestConvex,
  name: string,
  schema: SchemaDefinition<GenericSchema, boolean>,
) {
  let names = registeredComponents.get(t);
  if (names === undefined) registeredComponents.set(t, (names = new Map()));
  names.set(name, Object.keys(schema.tables));
}

export function withScanModule(
  modules: Record<string, () => Promise<unknown>>,
): Record<string, () => Promise<unknown>> {
  // convex-test finds a component's root as the folder holding `_generated`.
  const generated = Object.keys(modules).find((p) => p.includes("_generated"));
  if (generated === undefined) return modules;
  const root = generated.split("_generated", 2)[0];
  return {
    ...modules,
    [`${root}${SCAN_MODULE}.ts`]: async () => scanModule,
  };
}

/** A scan page stops after this many bytes or documents (well inside a transaction's 16 MiB / 32,000). */
const SCAN_PAGE_BYTES = 4 << 20;
const SCAN_PAGE_DOCUMENTS = 4_000;
/** A page also stops once it found this many violations, so its result stays small. */
const SCAN_PAGE_VIOLATIONS = 1_000;

const vScanViolation = v.object({
  id: v.string(),
  path: v.string(),
  rule: v.union(v.literal("size"), v.literal("array"), v.literal("nesting")),
  actual: v.number(),
  limit: v.number(),
});

export type ScanPage = {
  violations: Array<
    Omit<LimitViolation, "rule"> & { id: string; rule: LimitViolation["rule"] }
  >;
  next: number | null;
};

export async function scanTablePage(
  ctx: GenericQueryCtx<GenericDataModel>,
  args: { table: string; after: number | null },
): Promise<ScanPage> {
  const violations: ScanPage["violations"] = [];
  const after = args.after;
  const query = ctx.db
    .query(args.table)
    .withIndex("by_creation_time", (q) =>
      after === null ? q : q.gt("_creationTime", after),
    );
  let bytes = 0;
  let documents = 0;
  for await (const doc of query) {
    for (const violation of checkDocument(doc as Record<string, Value>))
      violations.push({ id: String(doc._id), ...violation });
    bytes += documentSize(doc as Value);
    documents += 1;
    if (
      bytes >= SCAN_PAGE_BYTES ||
      documents >= SCAN_PAGE_DOCUMENTS ||
      violations.length >= SCAN_PAGE_VIOLATIONS
    )
      return { violations, next: doc._creationTime as number };
  }
  return { violations, next: null };
}

/**
 * The query installed (in tests only) in every component registered through
 * `convex-opskit/test`: one page of one table, checked against the limits.
 */
const scanModule = {
  scanPage: queryGeneric({
    args: { table: v.string(), after: v.union(v.null(), v.number()) },
    returns: v.object({
      violations: v.array(vScanViolation),
      next: v.union(v.null(), v.number()),
    }),
    handler: scanTablePage,
  }),
};

export function scanReference(component: string): unknown {
  // A child of the app is reached the public way, like `components.x.y.z`;
  // a nested component path ("a/b") through a function handle.
  if (!component.includes("/")) {
    const api = componentsGeneric() as unknown as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    return api[component][SCAN_MODULE].scanPage;
  }
  return `function://${component};${SCAN_MODULE}:scanPage`;
}
