/** The state both audit lists keep: the applied filters, the open operation, the live pages. */
import type {
  FunctionArgs,
  FunctionReference,
  FunctionReturnType,
} from "convex/server";
import { useState } from "react";
import type { OpsApi } from "../../ops/validators.js";
import { useConsoleConfig } from "../common.js";
import { errorData } from "../format.js";
import { useOpsPages, type PagesState } from "../hooks.js";
import type { AuditFilters } from "./FilterForm.js";

/** Rows per page of the audit lists. */
const PAGE = 25;

/** Whether an error means the user may not use this panel at all. */
function refused(error: unknown) {
  const code = errorData(error)?.code;
  return code === "FORBIDDEN" || code === "UNAUTHENTICATED";
}

/** What {@link useFilteredPage} returns. */
export type FilteredPage<Row> = {
  tables: readonly string[];
  filters: AuditFilters;
  setFilters: (filters: AuditFilters) => void;
  open: string | null;
  setOpen: (operationId: string | null) => void;
  pages: PagesState<Row>;
  refused: boolean;
};

/**
 * A paged audit list under the filters of its `FilterForm`: the tables the
 * form offers (from the console config), the filters applied (`setFilters`
 * is the form's `onApply`), the operation opened below the list, the live
 * pages of `query` with those filters, and whether the server refused the
 * panel (then the form is hidden and only the error shows).
 */
export function useFilteredPage<
  Q extends FunctionReference<
    "query",
    "public",
    AuditFilters & {
      paginationOpts: { numItems: number; cursor: string | null };
    }
  >,
  Row = FunctionReturnType<Q> extends { page: Array<infer R> } ? R : never,
>(
  api: Pick<OpsApi, "opsConfig">,
  query: Q,
  idOf: (row: Row) => string,
): FilteredPage<Row> {
  const config = useConsoleConfig(api);
  const [filters, setFilters] = useState<AuditFilters>({});
  const [open, setOpen] = useState<string | null>(null);
  const pages = useOpsPages<Q, Row>(
    query,
    filters as Omit<FunctionArgs<Q>, "paginationOpts">,
    PAGE,
    idOf,
  );
  return {
    tables: config.data?.tables ?? [],
    filters,
    setFilters,
    open,
    setOpen,
    pages,
    refused: refused(pages.error),
  };
}
