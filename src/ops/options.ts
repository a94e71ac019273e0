/**
 * What `opsApi` is configured with: the console's sections, the permission
 * each needs by default, the options type, and the bounds of a console page.
 */
import type { GenericDataModel, TableNamesInDataModel } from "convex/server";
import type { AdminCtx, AuditLog } from "../auditLog/client.js";
import type { Entry } from "../auditLog/shared/validators.js";
import type { Authz } from "../authz/client.js";
import type {
  MigrationFunctionReference,
  Migrations,
} from "../migrations/client.js";
import type { RateLimiter } from "../rateLimiter/client.js";

/** The console's sections, each guarded by one permission. */
export type OpsSection =
  "read" | "revert" | "migrations" | "rateLimits" | "users";

/** Default permission of each section. */
export const DEFAULT_OPS_PERMISSIONS = {
  read: "audit.read",
  revert: "audit.revert",
  migrations: "migrations.run",
  rateLimits: "rateLimits.manage",
  users: "users.manage",
} as const satisfies Record<OpsSection, string>;

/** Options of {@link opsApi}. */
export type OpsApiOptions<
  DataModel extends GenericDataModel,
  Perm extends string,
> = {
  /** The app's `Authz` instance: identity and permissions of every function. */
  // The roles config is the app's; only the permission names matter here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  authz: Authz<any, Perm, any>;
  /** The app's `AuditLog`: the trail, verify, revert, and the record of every change made here. */
  auditLog: AuditLog<DataModel>;
  /** Tables a revert from the console may write (the tables your admin mutations write). */
  revertTables: readonly TableNamesInDataModel<DataModel>[];
  /**
   * Called inside the revert's admin mutation after the documents are
   * restored (e.g. re-sync derived state). Each entry's `docId` is the
   * document as it exists after the revert: when the revert re-created a
   * deleted document, that is its new id (`recreated` maps the id the
   * audit trail recorded to the new one).
   */
  afterRevert?: (
    ctx: AdminCtx<DataModel>,
    reverted: {
      operationId: string;
      entries: Entry[];
      recreated: Array<{ table: string; oldDocId: string; newDocId: string }>;
    },
  ) => Promise<void>;
  /**
   * Called inside the console's `grantRole`/`revokeRole` admin mutation
   * after the grant changed (e.g. mirror a global role into your users
   * table, as the example app does). It may write the tables named in
   * {@link OpsApiOptions.roleChangeTables}; its writes are audited with the
   * grant.
   */
  afterRoleChange?: (
    ctx: AdminCtx<DataModel>,
    change: {
      action: "grant" | "revoke";
      userId: string;
      role: string;
      scope?: string;
    },
  ) => Promise<void>;
  /** App tables `afterRoleChange` writes (default none). */
  roleChangeTables?: readonly TableNamesInDataModel<DataModel>[];
  /** The app's migrations and the ones the console lists (`internal.migrations.x`). */
  migrations?: {
    instance: Migrations<DataModel>;
    list: readonly MigrationFunctionReference[];
  };
  /** The app's `RateLimiter`; its configured names are the ones the console shows. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  rateLimiter?: RateLimiter<any>;
  /** The permission each section needs; defaults in {@link DEFAULT_OPS_PERMISSIONS}. */
  permissions?: Partial<Record<OpsSection, Perm>>;
};

/** Component pages read per console page at most, when filters drop rows. */
export const MAX_SCAN_PAGES = 4;
/** Largest page the console asks for (auditLog's own list queries serve up to 500). */
export const OPS_MAX_PAGE_SIZE = 50;
/** @deprecated use {@link OPS_MAX_PAGE_SIZE} (auditLog's component has its own, larger, `MAX_PAGE_SIZE`). */
export const MAX_PAGE_SIZE = OPS_MAX_PAGE_SIZE;
/**
 * Bytes of rows (as Convex counts values) one console page reads at most before it stops
 * asking for more component pages: well under a query's 16 MiB read and
 * return limits, with room for large audited documents.
 */
export const MAX_SCAN_BYTES = 4 * 1024 * 1024;
/**
 * Rows asked of the component by the first read of a console page: a
 * component page is read whole, so its size is chosen before any row is
 * seen; at most 1 MiB per production document, 8 rows stay within the read
 * limit. Later reads ask for as many rows as the remaining bytes hold at the
 * largest row seen so far.
 */
export const FIRST_READ_ROWS = 8;
/** Smallest row size assumed when sizing later reads (bytes, as Convex counts values). */
export const MIN_ROW_ESTIMATE = 16 * 1024;
