/**
 * Return validators for what the migrations client gives back, for apps that
 * pass those results through their own functions (`returns: vRunReport`).
 * `vMigrationStatus`, `vRunReport` and `vPendingMigration` are the wire
 * validators the component itself returns (`../shared/wire.ts`).
 */
import { v } from "convex/values";
import { vBatchResult, vRunReport } from "../shared/wire.js";

export {
  vMigrationStatus,
  vPendingMigration,
  vRunReport,
} from "../shared/wire.js";

/** `getReport`'s result: a report, or null before the first run. */
export const vRunReportOrNull = v.union(vRunReport, v.null());

/** What one batch of a migration reports (`MigrationResult`). */
export const vMigrationResult = vBatchResult;
