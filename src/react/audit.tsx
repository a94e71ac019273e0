/**
 * The audit panels: the trail of changes and the list of operations, both
 * with combinable filters and export; one operation with its field-by-field
 * diffs and a revert; and verification of the hash chain.
 */
import { useAction, useConvex, useMutation } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState, type FormEvent, type ReactNode } from "react";
import type { OpsApi } from "../ops/validators.js";
import {
  EmptyRow,
  ErrorBox,
  LoadMoreButton,
  OpenButton,
  PanelRoot,
  ReasonAction,
  useConsoleConfig,
} from "./common.js";
import {
  collectPages,
  errorData,
  fieldDiff,
  formatTime,
  parseLocalTime,
  showValue,
  toCsv,
  toNdjson,
} from "./format.js";
import { useOpsPages, useOpsQuery, type PagesState } from "./hooks.js";

type Entry = FunctionReturnType<OpsApi["auditTrail"]>["page"][number];
type Operation = FunctionReturnType<OpsApi["auditOperations"]>["page"][number];

/** Filters of the audit trail and operations list. */
export type AuditFilters = {
  from?: number;
  to?: number;
  table?: string;
  actorId?: string;
  functionName?: string;
};

const PAGE = 25;

/** Whether an error means the user may not use this panel at all. */
function refused(error: unknown) {
  const code = errorData(error)?.code;
  return code === "FORBIDDEN" || code === "UNAUTHENTICATED";
}
/** Most rows one export collects. */
export const EXPORT_LIMIT = 5000;
/** Most trail pages one export asks for (a sparse filter returns short pages). */
export const EXPORT_MAX_PAGES = 500;

function FilterForm(props: {
  tables: readonly string[];
  withTable: boolean;
  onApply: (f: AuditFilters) => void;
}) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [table, setTable] = useState("");
  const [actor, setActor] = useState("");
  const [fn, setFn] = useState("");
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const f: AuditFilters = {};
    const fromMs = parseLocalTime(from);
    const toMs = parseLocalTime(to);
    if (fromMs !== undefined) f.from = fromMs;
    if (toMs !== undefined) f.to = toMs;
    if (table) f.table = table;
    if (actor.trim()) f.actorId = actor.trim();
    if (fn.trim()) f.functionName = fn.trim();
    props.onApply(f);
  };
  return (
    <form
      className="opskit-filters"
      role="search"
      aria-label="Filters"
      onSubmit={apply}
    >
      <label className="opskit-field">
        From
        <input
          aria-label="From"
          type="datetime-local"
          step={1}
          value={from}
          onChange={(e) => setFrom(e.target.value)}
        />
      </label>
      <label className="opskit-field">
        To
        <input
          aria-label="To"
          type="datetime-local"
          step={1}
          value={to}
          onChange={(e) => setTo(e.target.value)}
        />
      </label>
      {props.withTable && (
        <label className="opskit-field">
          Table
          <select
            aria-label="Table"
            value={table}
            onChange={(e) => setTable(e.target.value)}
          >
            <option value="">Any table</option>
            {props.tables.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      )}
      <label className="opskit-field">
        Actor
        <input
          aria-label="Actor"
          value={actor}
          placeholder="user id"
          onChange={(e) => setActor(e.target.value)}
        />
      </label>
      <label className="opskit-field">
        Function
        <input
          aria-label="Function"
          value={fn}
          placeholder="module:function"
          onChange={(e) => setFn(e.target.value)}
        />
      </label>
      <button type="submit" className="opskit-btn opskit-btn-primary">
        Apply filters
      </button>
    </form>
  );
}

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
function ExportButtons(props: {
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
      <button
        type="button"
        className="opskit-btn"
        disabled={state.busy}
        onClick={() => void run("csv")}
      >
        Export CSV
      </button>
      <button
        type="button"
        className="opskit-btn"
        disabled={state.busy}
        onClick={() => void run("ndjson")}
      >
        Export NDJSON
      </button>
      {state.message && (
        <span role="status" className="opskit-muted">
          {state.message}
        </span>
      )}
      {state.error !== undefined && <ErrorBox error={state.error} />}
    </div>
  );
}

/**
 * One panel's paged table: the error, "Loading…", the rows (a muted `empty`
 * row when there are none) and "Load more". `columns` are the headers before
 * the last one, `actionColumn` (muted), which holds each row's button.
 */
function PagedTable<Row>(props: {
  pages: PagesState<Row>;
  label: string;
  columns: string[];
  actionColumn: string;
  empty: string;
  row: (row: Row) => ReactNode;
}) {
  const { pages } = props;
  if (pages.error) return <ErrorBox error={pages.error} />;
  if (pages.status === "loading")
    return <p className="opskit-muted">Loading…</p>;
  return (
    <>
      <table className="opskit-table" aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
            <th>
              <span className="opskit-muted">{props.actionColumn}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {pages.rows.map(props.row)}
          {pages.rows.length === 0 && (
            <EmptyRow colSpan={props.columns.length + 1}>
              {props.empty}
            </EmptyRow>
          )}
        </tbody>
      </table>
      <LoadMoreButton pages={pages} />
    </>
  );
}

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

/** One operation: who, why, and each document's field-by-field diff, with a revert. */
export function OperationDetail(props: {
  api: Pick<OpsApi, "opsConfig" | "auditOperation" | "auditRevert">;
  operationId: string;
  onClose?: () => void;
  unstyled?: boolean;
}) {
  const config = useConsoleConfig(props.api);
  const detail = useOpsQuery(props.api.auditOperation, {
    operationId: props.operationId,
  });
  const revert = useMutation(props.api.auditRevert);
  const [force, setForce] = useState(false);
  const op = detail.data?.operation;
  return (
    <PanelRoot unstyled={props.unstyled}>
      <section className="opskit-panel" aria-labelledby="opskit-op-h">
        <div className="opskit-header">
          <h2 id="opskit-op-h" style={{ margin: 0 }}>
            Operation{" "}
            {op ? <span className="opskit-mono">{op.functionName}</span> : null}
          </h2>
          {props.onClose && (
            <button
              type="button"
              className="opskit-btn"
              onClick={props.onClose}
            >
              Close
            </button>
          )}
        </div>
        {detail.error ? (
          <ErrorBox error={detail.error} />
        ) : detail.data === undefined ? (
          <p className="opskit-muted">Loading…</p>
        ) : detail.data === null ? (
          <p>
            This operation no longer exists (retention may have removed it).
          </p>
        ) : (
          <>
            <dl className="opskit-grid">
              <div className="opskit-stat">
                <dt className="opskit-muted">Actor</dt>
                <dd style={{ margin: 0 }}>
                  {op!.actorId}{" "}
                  <span className="opskit-muted">({op!.actorKind})</span>
                </dd>
              </div>
              <div className="opskit-stat">
                <dt className="opskit-muted">Time</dt>
                <dd style={{ margin: 0 }}>{formatTime(op!.time)}</dd>
              </div>
              <div className="opskit-stat" style={{ gridColumn: "span 2" }}>
                <dt className="opskit-muted">Reason</dt>
                <dd style={{ margin: 0 }}>{op!.reason}</dd>
              </div>
              <div className="opskit-stat">
                <dt className="opskit-muted">Sealed</dt>
                <dd style={{ margin: 0 }}>
                  {op!.seq !== undefined ? `#${op!.seq}` : "not yet"}
                </dd>
              </div>
            </dl>
            {op!.revertOf && (
              <p className="opskit-warn">
                This operation reverted{" "}
                <span className="opskit-mono">{op!.revertOf.operationId}</span>.
              </p>
            )}
            {detail.data.entries.length === 0 && (
              <p className="opskit-muted">
                No document of an audited table changed (it acted on{" "}
                {op!.tables.join(", ")}). Arguments:{" "}
                <span className="opskit-mono">{showValue(op!.args)}</span>
              </p>
            )}
            {detail.data.entries.map((e) => (
              <div key={e.entryId}>
                <h3>
                  {e.table} <span className="opskit-mono">{e.docId}</span>{" "}
                  <span className="opskit-badge">{e.kind}</span>
                </h3>
                <table
                  className="opskit-table opskit-diff"
                  aria-label={`Changes to ${e.table} ${e.docId}`}
                >
                  <thead>
                    <tr>
                      <th>Field</th>
                      <th>Before</th>
                      <th>After</th>
                    </tr>
                  </thead>
                  <tbody>
                    {fieldDiff(e.before, e.after).map((d) => (
                      <tr key={d.field}>
                        <td className="opskit-mono">
                          {d.field}
                          {d.status !== "same" && (
                            <span className="opskit-muted"> · {d.status}</span>
                          )}
                        </td>
                        <td
                          className={`opskit-mono ${d.status === "changed" || d.status === "removed" ? "opskit-removed" : ""}`}
                        >
                          {showValue(d.before)}
                        </td>
                        <td
                          className={`opskit-mono ${d.status === "changed" || d.status === "added" ? "opskit-added" : ""}`}
                        >
                          {showValue(d.after)}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
            {detail.data.entries.length > 0 && (
              <div style={{ marginTop: 12 }}>
                {config.data && !config.data.can.revert ? (
                  <p className="opskit-muted">
                    Reverting needs the “{config.data.permissions.revert}”
                    permission.
                  </p>
                ) : (
                  <ReasonAction
                    label="Revert"
                    ariaLabel="Revert this operation"
                    danger
                    description="Restores every document above to its state before this operation, as a new audited operation."
                    minLength={config.data?.reason.minLength}
                    reasonHint={config.data?.reason.hint}
                    extra={
                      <label style={{ display: "block", marginBottom: 8 }}>
                        <input
                          type="checkbox"
                          checked={force}
                          onChange={(e) => setForce(e.target.checked)}
                        />{" "}
                        Overwrite changes made after this operation
                      </label>
                    }
                    onConfirm={async (reason) => {
                      const r = await revert({
                        operationId: props.operationId,
                        reason,
                        ...(force ? { force: true } : {}),
                      });
                      return `Reverted ${r.revertedEntries} document${r.revertedEntries === 1 ? "" : "s"}${r.recreated ? ` (${r.recreated} re-created)` : ""}.`;
                    }}
                  />
                )}
              </div>
            )}
          </>
        )}
      </section>
    </PanelRoot>
  );
}

/** Verifies the audit log's hash chain on demand and says what it found. */
export function VerifyStatus(props: {
  api: Pick<OpsApi, "auditVerify">;
  unstyled?: boolean;
}) {
  const verify = useAction(props.api.auditVerify);
  const [state, setState] = useState<{
    busy: boolean;
    result?: FunctionReturnType<OpsApi["auditVerify"]>;
    error?: unknown;
    at?: number;
  }>({ busy: false });
  return (
    <PanelRoot unstyled={props.unstyled}>
      <section className="opskit-panel" aria-labelledby="opskit-verify-h">
        <h2 id="opskit-verify-h">Verify the audit log</h2>
        <p className="opskit-muted" style={{ marginTop: 0 }}>
          Recomputes the hash chain over every sealed operation: an edited,
          deleted or reordered record shows up here.
        </p>
        <button
          type="button"
          className="opskit-btn opskit-btn-primary"
          disabled={state.busy}
          onClick={async () => {
            setState({ busy: true });
            try {
              setState({
                busy: false,
                result: await verify({}),
                at: Date.now(),
              });
            } catch (error) {
              setState({ busy: false, error });
            }
          }}
        >
          {state.busy ? "Verifying…" : "Verify now"}
        </button>
        {state.error !== undefined && <ErrorBox error={state.error} />}
        {state.result && (
          <div role="status" style={{ marginTop: 12 }}>
            {state.result.ok ? (
              <span className="opskit-badge opskit-badge-ok">Intact</span>
            ) : (
              <span className="opskit-badge opskit-badge-bad">
                {state.result.problemCount} problem
                {state.result.problemCount === 1 ? "" : "s"}
              </span>
            )}{" "}
            {state.result.checked} sealed operation
            {state.result.checked === 1 ? "" : "s"} checked
            {state.at ? ` at ${formatTime(state.at)}` : ""}.
            {state.result.pendingSeal && (
              <p className="opskit-muted">
                Some recent operations are not sealed yet; they are covered once
                the seal job runs.
              </p>
            )}
            {!state.result.isDone && (
              <p className="opskit-warn">
                The log is long: only the first part was verified.
              </p>
            )}
            {state.result.problems.length > 0 && (
              <ul>
                {state.result.problems.map((p, i) => (
                  <li key={i}>
                    <strong>#{p.seq}</strong> {p.kind}: {p.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </section>
    </PanelRoot>
  );
}
