/**
 * The audit lists: the trail of changes and the list of operations, both
 * live, with combinable filters (the trail also with export); opening a row
 * shows its operation (`operation.tsx`) below the list.
 */
import type { FunctionReturnType } from "convex/server";
import type { OpsApi } from "../ops/validators.js";
import { OpenButton } from "./common.js";
import { formatTime } from "./format.js";
import { ExportButtons } from "./parts/ExportButtons.js";
import { FilterForm } from "./parts/FilterForm.js";
import { AuditListPanel } from "./parts/AuditListPanel.js";
import { PagedTable } from "./parts/PagedTable.js";
import { useFilteredPage } from "./parts/useFilteredPage.js";

type Entry = FunctionReturnType<OpsApi["auditTrail"]>["page"][number];
type Operation = FunctionReturnType<OpsApi["auditOperations"]>["page"][number];

/**
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
  const list = useFilteredPage(
    props.api,
    props.api.auditTrail,
    (e: Entry) => e.entryId,
  );
  const { open, setOpen } = list;
  return (
    <AuditListPanel
      api={props.api}
      unstyled={props.unstyled}
      heading="Audit trail"
      headingId="opskit-trail-h"
      list={list}
      controls={
        <>
          <FilterForm
            tables={list.tables}
            withTable
            onApply={list.setFilters}
          />
          <ExportButtons api={props.api} filters={list.filters} />
        </>
      }
    >
      <PagedTable
        pages={list.pages}
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
    </AuditListPanel>
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
  const list = useFilteredPage(
    props.api,
    props.api.auditOperations,
    (o: Operation) => o.operationId,
  );
  const { open, setOpen } = list;
  return (
    <AuditListPanel
      api={props.api}
      unstyled={props.unstyled}
      heading="Operations"
      headingId="opskit-ops-h"
      list={list}
      controls={
        <FilterForm tables={list.tables} withTable onApply={list.setFilters} />
      }
    >
      <PagedTable
        pages={list.pages}
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
    </AuditListPanel>
  );
}
