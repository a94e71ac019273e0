/** Export of the filtered audit trail as CSV or NDJSON, page by page. */
import { useConvex } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import type { OpsApi } from "../../ops/validators.js";
import { ErrorBox } from "../common.js";
import { collectPages, toCsv, toNdjson } from "../format.js";
import type { AuditFilters } from "./FilterForm.js";

type Entry = FunctionReturnType<OpsApi["auditTrail"]>["page"][number];

/** Most rows one export collects. */
export const EXPORT_LIMIT = 5000;
/** Most trail pages one export asks for (a sparse filter returns short pages). */
export const EXPORT_MAX_PAGES = 500;
function download(name: string, type: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const ENTRY_COLUMNS = [
  "time",
  "actorId",
  "functionName",
  "table",
  "docId",
  "kind",
  "changed",
  "operationId",
  "entryId",
  "before",
  "after",
] as const;

/** Exports every entry matching the filters, page by page, as CSV or NDJSON. */
export function ExportButtons(props: {
  api: Pick<OpsApi, "auditTrail">;
  filters: AuditFilters;
}) {
  const convex = useConvex();
  const [state, setState] = useState<{
    busy: boolean;
    message?: string;
    error?: unknown;
  }>({ busy: false });
  const run = async (format: "csv" | "ndjson") => {
    setState({ busy: true });
    try {
      const { rows: limited, stopped } = await collectPages<Entry>(
        (cursor) =>
          convex.query(props.api.auditTrail, {
            ...props.filters,
            paginationOpts: { numItems: 50, cursor },
          }),
        { limit: EXPORT_LIMIT, maxPages: EXPORT_MAX_PAGES },
      );
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      if (format === "csv")
        download(
          `audit-trail-${stamp}.csv`,
          "text/csv",
          toCsv(
            limited.map((r) => ({
              ...r,
              time: new Date(r.time).toISOString(),
            })),
            ENTRY_COLUMNS,
          ),
        );
      else
        download(
          `audit-trail-${stamp}.ndjson`,
          "application/x-ndjson",
          toNdjson(limited),
        );
      setState({
        busy: false,
        message: `Exported ${limited.length} entr${limited.length === 1 ? "y" : "ies"} as ${format.toUpperCase()}${stopped === "limit" ? ` (first ${EXPORT_LIMIT}; narrow the filters for the rest)` : stopped === "pages" ? ` (stopped after reading ${EXPORT_MAX_PAGES} pages of the log; narrow the time range for the rest)` : stopped === "stuck" ? " (stopped: the server returned the same page twice)" : ""}.`,
      });
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return (
    <div className="opskit-actions">
      {(["csv", "ndjson"] as const).map((format) => (
        <button
          key={format}
          type="button"
          className="opskit-btn"
          disabled={state.busy}
          onClick={() => void run(format)}
        >
          {`Export ${format.toUpperCase()}`}
        </button>
      ))}
      {state.message && (
        <span role="status" className="opskit-muted">
          {state.message}
        </span>
      )}
      {state.error !== undefined && <ErrorBox error={state.error} />}
    </div>
  );
}
