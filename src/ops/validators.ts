/**
 * The wire contract between `opsApi` (server, `convex-opskit/ops`) and the
 * console components (`convex-opskit/react`): argument and return validators
 * of every function the console calls, and the {@link OpsApi} type the
 * components accept. Imports neither side.
 */
import {
  paginationOptsValidator,
  paginationResultValidator,
  type DefaultFunctionArgs,
  type FunctionReference,
} from "convex/server";
import { pick } from "convex-helpers";
import { v, type Infer } from "convex/values";
import { vEntry, vOperation } from "../auditLog/shared/validators.js";
import { vMember } from "../authz/shared/validators.js";
import { vMigrationStatus, vRunReport } from "../migrations/shared/wire.js";
import { vValue } from "../rateLimiter/shared/validators.js";

/** Pagination options: `paginationOptsValidator` from `convex/server`. */
export const vPaginationOpts = paginationOptsValidator;

/** Filters of the audit trail; every one optional, all combinable. */
export const vTrailFilters = {
  /** Earliest time (ms, inclusive). */
  from: v.optional(v.number()),
  /** Latest time (ms, inclusive). */
  to: v.optional(v.number()),
  table: v.optional(v.string()),
  actorId: v.optional(v.string()),
  functionName: v.optional(v.string()),
};

/** What the signed-in user may do in the console, and the names it offers. */
export const vOpsConfig = v.object({
  actorId: v.string(),
  can: v.object({
    read: v.boolean(),
    revert: v.boolean(),
    migrations: v.boolean(),
    rateLimits: v.boolean(),
    users: v.boolean(),
  }),
  /** The permission each section needs, to say so when it is missing. */
  permissions: v.object({
    read: v.string(),
    revert: v.string(),
    migrations: v.string(),
    rateLimits: v.string(),
    users: v.string(),
  }),
  /** Tables an audited operation may be reverted in. */
  tables: v.array(v.string()),
  migrations: v.array(v.string()),
  rateLimits: v.array(v.object({ name: v.string(), kind: v.string() })),
  roles: v.array(v.object({ name: v.string(), assignable: v.boolean() })),
  /** The reason policy, so the form can say what it expects before sending. */
  reason: v.object({
    minLength: v.number(),
    hint: v.optional(v.string()),
  }),
});
/** {@link vOpsConfig} */
export type OpsConfig = Infer<typeof vOpsConfig>;

/** A page of audit entries, possibly shorter than asked when filters drop rows. */
export const vTrailPage = v.object({
  ...paginationResultValidator(vEntry).fields,
  /** Entries the server looked at for this page (filters may drop some). */
  scanned: v.number(),
});
/** A page of operations, like {@link vTrailPage}. */
export const vOperationsPage = v.object({
  ...paginationResultValidator(vOperation).fields,
  scanned: v.number(),
});

/** One operation with its entries. */
export const vOperationDetail = v.union(
  v.null(),
  v.object({ operation: vOperation, entries: v.array(vEntry) }),
);

/** What verifying the hash chain found (first problems only). */
export const vVerifySummary = v.object({
  ok: v.boolean(),
  checked: v.number(),
  pendingSeal: v.boolean(),
  isDone: v.boolean(),
  problemCount: v.number(),
  problems: v.array(
    v.object({
      kind: v.string(),
      seq: v.number(),
      operationId: v.optional(v.string()),
      message: v.string(),
    }),
  ),
});

/** The outcome of a revert from the console. */
export const vRevertOutcome = v.object({
  revertedEntries: v.number(),
  recreated: v.number(),
});

/** One migration's status, as the console shows it: fields of the migrations component's status. */
export const vMigrationRow = v.object(
  pick(vMigrationStatus.fields, [
    "name",
    "state",
    "dryRun",
    "processed",
    "changed",
    "unchanged",
    "failed",
    "percent",
    "docsPerSecond",
    "etaMs",
    "error",
    "warnings",
    "latestStart",
    "latestEnd",
  ]),
);
/** {@link vMigrationRow} */
export type MigrationRow = Infer<typeof vMigrationRow>;

/** A run's report: counts per field, samples and failures (the migrations component's report, with the console's status row). */
export const vMigrationReport = v.union(
  v.null(),
  v.object({
    ...pick(vRunReport.fields, [
      "fieldChanges",
      "samples",
      "failures",
      "journal",
      "rolledBack",
    ]),
    status: vMigrationRow,
  }),
);

/** What the console may do to a migration besides starting it. */
export const vMigrationAction = v.union(
  v.literal("pause"),
  v.literal("resume"),
  v.literal("cancel"),
  v.literal("rollback"),
);

/** A page of a scope's members. */
export const vMembersPage = paginationResultValidator(vMember);

/** A user's grants. */
export const vGrants = v.array(
  v.object({
    role: v.string(),
    scope: v.optional(v.string()),
    expiresAt: v.optional(v.number()),
  }),
);

type Q<Args extends DefaultFunctionArgs, R> = FunctionReference<
  "query",
  "public",
  Args,
  R
>;
type M<Args extends DefaultFunctionArgs, R> = FunctionReference<
  "mutation",
  "public",
  Args & { reason: string },
  R
>;
type A<Args extends DefaultFunctionArgs, R> = FunctionReference<
  "action",
  "public",
  Args,
  R
>;
type Page = Infer<typeof vPaginationOpts>;
type Filters = {
  from?: number;
  to?: number;
  table?: string;
  actorId?: string;
  functionName?: string;
};

/**
 * The functions `opsApi` exports and the console components call: pass
 * `api.ops` (the module where you exported them) to `<OpsConsole api={...} />`.
 */
export type OpsApi = {
  opsConfig: Q<Record<string, never>, OpsConfig>;
  auditTrail: Q<Filters & { paginationOpts: Page }, Infer<typeof vTrailPage>>;
  auditOperations: Q<
    Filters & { paginationOpts: Page },
    Infer<typeof vOperationsPage>
  >;
  auditOperation: Q<{ operationId: string }, Infer<typeof vOperationDetail>>;
  auditVerify: A<Record<string, never>, Infer<typeof vVerifySummary>>;
  auditRevert: M<
    { operationId: string; force?: boolean },
    Infer<typeof vRevertOutcome>
  >;
  migrationsStatus: Q<Record<string, never>, MigrationRow[]>;
  migrationReport: Q<
    { name: string; dryRun: boolean },
    Infer<typeof vMigrationReport>
  >;
  migrationRun: M<
    { name: string; dryRun?: boolean; batchSize?: number },
    MigrationRow
  >;
  migrationControl: M<
    { name: string; action: Infer<typeof vMigrationAction> },
    MigrationRow
  >;
  rateLimitValue: Q<{ name: string; key?: string }, Infer<typeof vValue>>;
  rateLimitReset: M<{ name: string; key?: string }, null>;
  roleMembers: Q<
    { scope?: string; paginationOpts: Page },
    Infer<typeof vMembersPage>
  >;
  userGrants: Q<{ userId: string }, Infer<typeof vGrants>>;
  grantRole: M<
    { userId: string; role: string; scope?: string; expiresAt?: number },
    { created: boolean }
  >;
  revokeRole: M<
    { userId: string; role: string; scope?: string },
    { revoked: boolean }
  >;
};

/** The names `opsApi` returns, in the order the README lists them. */
export const OPS_FUNCTIONS = [
  "opsConfig",
  "auditTrail",
  "auditOperations",
  "auditOperation",
  "auditVerify",
  "auditRevert",
  "migrationsStatus",
  "migrationReport",
  "migrationRun",
  "migrationControl",
  "rateLimitValue",
  "rateLimitReset",
  "roleMembers",
  "userGrants",
  "grantRole",
  "revokeRole",
] as const satisfies ReadonlyArray<keyof OpsApi>;
