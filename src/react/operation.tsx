/** One audit operation: who, why, and each document's field-by-field diff, with a revert. */
import { useMutation } from "convex/react";
import { useState } from "react";
import type { OpsApi } from "../ops/validators.js";
import {
  ErrorBox,
  PanelRoot,
  ReasonAction,
  useConsoleConfig,
} from "./common.js";
import { fieldDiff, formatTime, showValue } from "./format.js";
import { useOpsQuery } from "./hooks.js";

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
