/**
 * The call forms of `ctx.db` writes, parsed once for every wrapper of
 * `ctx.db` (authz's row rules, auditLog's recording db), so two wrappers
 * stacked on one another always agree on which document a call targets.
 *
 * Convex accepts `patch(id, value)` and `patch(table, id, value)` (same for
 * `replace`), `delete(id)` and `delete(table, id)`, and picks the explicit
 * form exactly when the last argument of that form is not `undefined`
 * (`convex/server`'s database implementation). This parser follows the same
 * rule, so a wrapper never reads a different document than Convex writes.
 */

/** A write call of `ctx.db`, in either form. */
export type DbWriteCall = {
  /** The table named by the explicit form; absent for the id-only form. */
  table?: string;
  /** The document id (as passed; not checked). */
  id: string;
  /** The patch or replacement value (absent for `delete`). */
  value?: unknown;
};

/**
 * Parses the arguments of `patch`/`replace` (`kind: "write"`) or `delete`
 * the way Convex does: explicit-table form when its last argument is given.
 */
export function parseDbWrite(
  kind: "write" | "delete",
  args: readonly unknown[],
): DbWriteCall {
  if (kind === "delete")
    return args[1] !== undefined
      ? { table: args[0] as string, id: args[1] as string }
      : { id: args[0] as string };
  return args[2] !== undefined
    ? { table: args[0] as string, id: args[1] as string, value: args[2] }
    : { id: args[0] as string, value: args[1] };
}

/** Parses the arguments of `get(id)` / `get(table, id)` the way Convex does. */
export function parseDbGet(args: readonly unknown[]): {
  table?: string;
  id: string;
} {
  return args[1] !== undefined
    ? { table: args[0] as string, id: args[1] as string }
    : { id: args[0] as string };
}

/**
 * A wrapper of `ctx.db` (such as auditLog's recording db) exposes the
 * database it forwards to under this key, so per-request state keyed by a
 * `ctx.db` (authz's memoized grants) is found through the wrapper.
 */
export const WRAPPED_DB: unique symbol = Symbol.for(
  "convex-opskit.wrappedDb",
) as never;

/** Makes the row-rule-enforcing `ctx.db` an authorizer verified a caller for. */
export type RowGuardFactory = () => Promise<unknown>;

const ROW_GUARDS = Symbol.for("convex-opskit.rowGuards");

/** One registry per realm, so the dist and src copies of the package share it. */
function rowGuards(): WeakMap<object, RowGuardFactory> {
  const g = globalThis as unknown as Record<
    symbol,
    WeakMap<object, RowGuardFactory> | undefined
  >;
  return (g[ROW_GUARDS] ??= new WeakMap());
}

/**
 * Called by an authorizer with row rules (authz's `authorize`) once it has
 * verified the caller of a request: registers, under that request's
 * `ctx.db`, how to make the db enforcing its rules for that caller. So an
 * admin mutation or revert whose authorizer is a plain function calling
 * `authz.authorize(ctx, ...)` still runs under the row rules.
 */
export function offerRowGuard(db: object, factory: RowGuardFactory): void {
  rowGuards().set(db, factory);
}

/** The row guard offered for this request's `ctx.db`, if any authorizer offered one. */
export function offeredRowGuard(db: object): RowGuardFactory | undefined {
  return rowGuards().get(db);
}
