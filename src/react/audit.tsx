/**
 * The audit panels: the trail of changes and the list of operations, both
 * with combinable filters and export; one operation with its field-by-field
 * diffs and a revert; and verification of the hash chain.
 */
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import type { OpsApi } from "../ops/validators.js";
import { OpenButton, PanelRoot, useConsoleConfig } from "./common.js";
import { errorData, formatTime } from "./format.js";
import { useOpsPages } from "./hooks.js";
import { OperationDetail } from "./operation.js";
import { ExportButtons } from "./parts/ExportButtons.js";
import { FilterForm, type AuditFilters } from "./parts/FilterForm.js";
import { PagedTable } from "./parts/PagedTable.js";

type Entry = FunctionReturnType<OpsApi["auditTrail"]>["page"][number];
type Operation = FunctionReturnType<OpsApi["auditOperations"]>["page"][number];
const PAGE = 25;

/** Whether an error means the user may not use this panel at all. */
function refused(error: unknown) {
  const code = errorData(error)?.code;
  return code === "FORBIDDEN" || code === "UNAUTHENTICATED";
} /**
 * The audit trail: every recorded document change, newest first, live, with
 * filters by time range, table, actor and function, and CSV/NDJSON export
 * of the filtered range. Opening a row shows its operation below.
 */
export function AuditTrail(props: {
  api: Pick<
    OpsApi,
    "opsConfig" | "auditTrail" | "auditOperation" | "auditRevert"
  >;
  unstyled?: boolean;
}) {
  const config = useConsoleConfig(props.api);
  const [filters, setFilters] = useState<AuditFilters>({});
  const [open, setOpen] = useState<string | null>(null);
  const trail = useOpsPages(
    props.api.auditTrail,
    filters,
    PAGE,
    (e: Entry) => e.entryId,
  );
  return (
    <PanelRoot unstyled={props.unstyled}>
      <section className="opskit-panel" aria-labelledby="opskit-trail-h">
        <h2 id="opskit-trail-h">Audit trail</h2>
        {!refused(trail.error) && (
          <>
            <FilterForm
              tables={config.data?.tables ?? []}
              withTable
              onApply={setFilters}
            />
            <ExportButtons api={props.api} filters={filters} />
          </>
        )}
        <PagedTable
          pages={trail}
          label="Audit entries"
          columns={[
            "Time",
            "Actor",
            "Function",
            "Table",
            "Document",
            "Change",
            "Fields",
          ]}
          actionColumn="Operation"
          empty="No entries match these filters."
          row={(e) => (
            <tr key={e.entryId} aria-selected={open === e.operationId}>
              <td>{formatTime(e.time)}</td>
              <td>{e.actorId}</td>
              <td className="opskit-mono">{e.functionName}</td>
              <td>{e.table}</td>
              <td className="opskit-mono">{e.docId}</td>
              <td>
                <span className="opskit-badge">{e.kind}</span>
              </td>
              <td>{e.changed.join(", ")}</td>
              <td>
                <OpenButton
                  label={`Open operation of ${e.table} ${e.docId} at ${formatTime(e.time)}`}
                  onClick={() => setOpen(e.operationId)}
                />
              </td>
            </tr>
          )}
        />
      </section>
      {open && (
        <OperationDetail
          api={props.api}
          operationId={open}
          onClose={() => setOpen(null)}
        />
      )}
    </PanelRoot>
  );
}

/** Admin operations (who, which function, why, how many documents), live, filterable. */
export function AuditOperations(props: {
  api: Pick<
    OpsApi,
    "opsConfig" | "auditOperations" | "auditOperation" | "auditRevert"
  >;
  unstyled?: boolean;
}) {
  const config = useConsoleConfig(props.api);
  const [filters, setFilters] = useState<AuditFilters>({});
  const [open, setOpen] = useState<string | null>(null);
  const ops = useOpsPages(
    props.api.auditOperations,
    filters,
    PAGE,
    (o: Operation) => o.operationId,
  );
  return (
    <PanelRoot unstyled={props.unstyled}>
      <section className="opskit-panel" aria-labelledby="opskit-ops-h">
        <h2 id="opskit-ops-h">Operations</h2>
        {!refused(ops.error) && (
          <FilterForm
            tables={config.data?.tables ?? []}
            withTable
            onApply={setFilters}
          />
        )}
        <PagedTable
          pages={ops}
          label="Audit operations"
          columns={["Time", "Actor", "Function", "Reason", "Documents"]}
          actionColumn="Details"
          empty="No operations match these filters."
          row={(o) => (
            <tr key={o.operationId} aria-selected={open === o.operationId}>
              <td>{formatTime(o.time)}</td>
              <td>{o.actorId}</td>
              <td className="opskit-mono">{o.functionName}</td>
              <td>{o.reason}</td>
              <td>
                {o.entryCount}
                {o.revertOf && (
                  <span className="opskit-badge" style={{ marginLeft: 6 }}>
                    revert
                  </span>
                )}
              </td>
              <td>
                <OpenButton
                  label={`Open operation ${o.functionName} at ${formatTime(o.time)}`}
                  onClick={() => setOpen(o.operationId)}
                />
              </td>
            </tr>
          )}
        />
      </section>
      {open && (
        <OperationDetail
          api={props.api}
          operationId={open}
          onClose={() => setOpen(null)}
        />
      )}
    </PanelRoot>
  );
}
