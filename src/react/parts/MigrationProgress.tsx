/** A migration's progress bar with visited/changed/failed counts and time left. */
import type { MigrationRow } from "../../ops/validators.js";

export function Progress({ row }: { row: MigrationRow }) {
  const pct = Math.round(
    row.state === "success"
      ? 100
      : Math.min(100, Math.max(0, row.percent ?? 0)),
  );
  return (
    <div>
      <div
        className="opskit-progress"
        role="progressbar"
        aria-label={`${row.name} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
      >
        <div style={{ width: `${pct}%` }} />
      </div>
      <span className="opskit-muted">
        {pct} % · {row.processed} visited · {row.changed} changed · {row.failed}{" "}
        failed
        {row.etaMs !== undefined && row.state === "inProgress"
          ? ` · about ${Math.ceil(row.etaMs / 1000)} s left`
          : ""}
      </span>
    </div>
  );
}
