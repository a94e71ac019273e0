/**
 * The public types of the migrations client (what `migrations.define`
 * returns and accepts, the options of `Migrations`).
 */
import type {
  FunctionReference,
  GenericDataModel,
  MutationBuilder,
  SchemaDefinition,
  TableDefinition,
  TableNamesInDataModel,
} from "convex/server";
import type { MigrationDefinition } from "./define.js";
import type {
  BatchResult,
  DescribeResult,
  MigrationArgs,
  MigrationStatus,
  RestoreResult,
} from "../shared/wire.js";

/** What one batch of a migration reports (named like `@convex-dev/migrations`' type). */
export type MigrationResult = BatchResult;

/** A reference to a migration made with `define`, like `internal.migrations.setDefault`. */
export type MigrationFunctionReference = FunctionReference<
  "mutation",
  "internal",
  MigrationArgs
>;

/**
 * What a migration function returns: a batch report, self-description, or a
 * status when called directly; `null` when called with the dashboard's
 * placeholder arguments (it logs how to run it instead).
 */
export type MigrationFunctionResult =
  BatchResult | DescribeResult | RestoreResult | MigrationStatus | null;

/**
 * A definition for any table of the data model, as a union discriminated by
 * `table`, so `migrateOne` is typed from the table without inferring a type
 * parameter (inference would widen `{ plan: "free" }` to `{ plan: string }`).
 */
export type AnyMigrationDefinition<DataModel extends GenericDataModel> = {
  [T in TableNamesInDataModel<DataModel>]: MigrationDefinition<DataModel, T>;
}[TableNamesInDataModel<DataModel>];

/** The same value `@convex-dev/migrations` uses when nothing is configured (here only for a fixed `defaultBatchSize`). */
export const DEFAULT_BATCH_SIZE = 100;

/** Options of `Migrations`. */
export type MigrationsOptions<DataModel extends GenericDataModel> = {
  /** Your `internalMutation` from `./_generated/server` (gives `define` your table types). */
  internalMutation?: MutationBuilder<DataModel, "internal">;
  /** A fixed batch size for every migration. Unset: batches are sized adaptively. */
  defaultBatchSize?: number;
  /** Prefix for short names given to the runner, e.g. `"migrations:"` so `{ fn: "setDefault" }` works. */
  migrationsLocationPrefix?: string;
  /** Your schema; required for `customRange`. */
  schema?: SchemaDefinition<Record<string, TableDefinition>, boolean>;
};
