/** A migration's dry-run or run report: counts, changes per field, samples, failures. */
import type { OpsApi } from "../../ops/validators.js";
import { ErrorBox } from "../common.js";
import { showValue } from "../format.js";
import { useOpsQuery } from "../hooks.js";

export const STATE_WORDS: Record<string, string> = {
  inProgress: "running",
  success: "complete",
  failed: "failed",
  canceled: "canceled",
  paused: "paused",
  unknown: "not started",
};

export function Report(props: {
  api: Pick<OpsApi, "migrationReport">;
  name: string;
  dryRun: boolean;
}) {
  const report = useOpsQuery(props.api.migrationReport, {
    name: props.name,
    dryRun: props.dryRun,
  });
  if (report.error) return <ErrorBox error={report.error} />;
  if (report.data === undefined)
    return <p className="opskit-muted">Loading…</p>;
  if (report.data === null)
    return (
      <p className="opskit-muted">
        {props.dryRun
          ? "No dry run yet: start one to see what would change."
          : "Not run yet."}
      </p>
    );
  const r = report.data;
  return (
    <div
      aria-label={props.dryRun ? "Dry-run report" : "Run report"}
      role="region"
    >
      {props.dryRun && (
        <div className="opskit-grid">
          <div className="opskit-stat">
            <span className="opskit-muted">State</span>
            <b>{STATE_WORDS[r.status.state] ?? r.status.state}</b>
          </div>
          <div className="opskit-stat">
            <span className="opskit-muted">Visited</span>
            <b>{r.status.processed}</b>
          </div>
          <div className="opskit-stat">
            <span className="opskit-muted">Would change</span>
            <b>{r.status.changed}</b>
          </div>
          <div className="opskit-stat">
            <span className="opskit-muted">Unchanged</span>
            <b>{r.status.unchanged}</b>
          </div>
          <div className="opskit-stat">
            <span className="opskit-muted">Would fail</span>
            <b>{r.status.failed}</b>
          </div>
        </div>
      )}
      {r.fieldChanges.length > 0 && (
        <table
          className="opskit-table"
          aria-label={
            props.dryRun ? "Would change per field" : "Changes per field"
          }
        >
          <thead>
            <tr>
              <th>Field</th>
              <th>Documents</th>
            </tr>
          </thead>
          <tbody>
            {r.fieldChanges.map((f) => (
              <tr key={f.field}>
                <td className="opskit-mono">{f.field}</td>
                <td>{f.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.dryRun && r.samples.length > 0 && (
        <>
          <h3>Samples</h3>
          <table className="opskit-table" aria-label="Samples">
            <thead>
              <tr>
                <th>Document</th>
                <th>Before → after (changed fields)</th>
              </tr>
            </thead>
            <tbody>
              {r.samples.map((s) => {
                const before = (s.before ?? {}) as Record<string, unknown>;
                const after = (s.after ?? {}) as Record<string, unknown>;
                const keys = [
                  ...new Set([...Object.keys(before), ...Object.keys(after)]),
                ].filter((k) => showValue(before[k]) !== showValue(after[k]));
                return (
                  <tr key={s.id}>
                    <td className="opskit-mono">{s.id}</td>
                    <td className="opskit-mono">
                      {s.after === null
                        ? "deleted"
                        : keys
                            .map(
                              (k) =>
                                `${k}: ${showValue(before[k]) || "—"} → ${showValue(after[k]) || "—"}`,
                            )
                            .join("; ")}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
      <h3>{props.dryRun ? "Would fail" : "Failures"}</h3>
      {r.failures.length === 0 ? (
        <p className="opskit-muted">None.</p>
      ) : (
        <table
          className="opskit-table"
          aria-label={props.dryRun ? "Dry-run failures" : "Failures"}
        >
          <thead>
            <tr>
              <th>Document</th>
              <th>Message</th>
              <th>Attempts</th>
              <th>Resolved</th>
            </tr>
          </thead>
          <tbody>
            {r.failures.map((f) => (
              <tr key={f.id}>
                <td className="opskit-mono">{f.id}</td>
                <td>{f.message}</td>
                <td>{f.attempts}</td>
                <td>{f.resolved ? "yes" : "no"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
