/**
 * Return validators for what the migrations client gives back, for apps that
 * pass those results through their own functions (`returns: vRunReport`).
 */
import { v } from "convex/values";
import {
  batchResult,
  migrationStatus,
  pendingMigration,
  runReport,
} from "../shared.js";

/** One migration's status (`getStatus`, `listRuns`, `cancel`, `pause`...). */
export const vMigrationStatus = migrationStatus;

/** A run's or dry run's full report (`getReport`): status, field counts, samples, failures. */
export const vRunReport = runReport;

/** `getReport`'s result: a report, or null before the first run. */
export const vRunReportOrNull = v.union(runReport, v.null());

/** One entry of `listPending`. */
export const vPendingMigration = pendingMigration;

/** What one batch of a migration reports (`MigrationResult`). */
export const vMigrationResult = batchResult;
