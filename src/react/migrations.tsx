/**
 * The migrations panel: progress, dry-run report, failures and
 * run/pause/resume/cancel/rollback. Every change asks for a reason.
 */
import { useMutation } from "convex/react";
import { useState } from "react";
import type { OpsApi } from "../ops/validators.js";
import {
  ErrorBox,
  PanelRoot,
  ReasonAction,
  reasonProps,
  useConsoleConfig,
} from "./common.js";
import { formatTime } from "./format.js";
import { useOpsQuery } from "./hooks.js";
import { Progress } from "./parts/MigrationProgress.js";
import { Report, STATE_WORDS } from "./parts/MigrationReport.js";

/**
 * Migrations: live progress of each configured migration, its dry-run
 * report and failures, and run/pause/resume/cancel/rollback with a reason.
 */
export function MigrationsPanel(props: {
  api: Pick<
    OpsApi,
    | "opsConfig"
    | "migrationsStatus"
    | "migrationReport"
    | "migrationRun"
    | "migrationControl"
  >;
  unstyled?: boolean;
}) {
  const config = useConsoleConfig(props.api);
  const status = useOpsQuery(props.api.migrationsStatus, {});
  const run = useMutation(props.api.migrationRun);
  const control = useMutation(props.api.migrationControl);
  const [batchSize, setBatchSize] = useState("");
  const rp = reasonProps(config.data);
  return (
    <PanelRoot unstyled={props.unstyled}>
      <section className="opskit-panel" aria-labelledby="opskit-mig-h">
        <h2 id="opskit-mig-h">Migrations</h2>
        {status.error ? (
          <ErrorBox error={status.error} />
        ) : status.data === undefined ? (
          <p className="opskit-muted">Loading…</p>
        ) : status.data.length === 0 ? (
          <p className="opskit-muted">
            No migrations are configured for the console.
          </p>
        ) : (
          status.data.map((m) => {
            const running = m.state === "inProgress";
            const batch = Number(batchSize);
            const sized =
              batchSize.trim() !== "" && Number.isFinite(batch)
                ? { batchSize: batch }
                : {};
            return (
              <article
                key={m.name}
                aria-label={`Migration ${m.name}`}
                style={{ marginBottom: 16 }}
              >
                <div className="opskit-header">
                  <h3 style={{ margin: 0 }} className="opskit-mono">
                    {m.name}
                  </h3>
                  <span
                    className={`opskit-badge ${m.state === "success" ? "opskit-badge-ok" : m.state === "failed" ? "opskit-badge-bad" : ""}`}
                    aria-label={`State: ${STATE_WORDS[m.state] ?? m.state}`}
                  >
                    {STATE_WORDS[m.state] ?? m.state}
                  </span>
                </div>
                <Progress row={m} />
                {m.error && (
                  <p className="opskit-error" role="alert">
                    {m.error}
                  </p>
                )}
                {m.warnings.map((w) => (
                  <p key={w} className="opskit-warn">
                    {w}
                  </p>
                ))}
                {m.latestStart > 0 && (
                  <p className="opskit-muted" style={{ margin: "4px 0" }}>
                    Started {formatTime(m.latestStart)}
                    {m.latestEnd ? `, ended ${formatTime(m.latestEnd)}` : ""}
                  </p>
                )}
                <div className="opskit-actions" style={{ margin: "8px 0" }}>
                  <label className="opskit-field">
                    Batch size
                    <input
                      aria-label="Batch size"
                      inputMode="numeric"
                      placeholder="adaptive"
                      size={8}
                      value={batchSize}
                      onChange={(e) => setBatchSize(e.target.value)}
                    />
                  </label>
                  <ReasonAction
                    label="Dry run"
                    ariaLabel={`Dry run ${m.name}`}
                    description="Walks the whole table without writing anything and stores a report."
                    {...rp}
                    onConfirm={async (reason) => {
                      await run({
                        name: m.name,
                        dryRun: true,
                        reason,
                        ...sized,
                      });
                      return "Dry run started.";
                    }}
                  />
                  <ReasonAction
                    label="Run"
                    ariaLabel={`Run ${m.name}`}
                    disabled={
                      running || m.state === "paused" || m.state === "success"
                    }
                    description="Starts (or continues) the real migration."
                    {...rp}
                    onConfirm={async (reason) => {
                      await run({ name: m.name, reason, ...sized });
                      return "Run started.";
                    }}
                  />
                  {(["pause", "resume", "cancel", "rollback"] as const).map(
                    (action) => (
                      <ReasonAction
                        key={action}
                        label={action[0].toUpperCase() + action.slice(1)}
                        ariaLabel={`${action[0].toUpperCase() + action.slice(1)} ${m.name}`}
                        danger={action === "cancel" || action === "rollback"}
                        disabled={
                          action === "pause"
                            ? !running
                            : action === "resume"
                              ? m.state !== "paused"
                              : action === "cancel"
                                ? !(running || m.state === "paused")
                                : m.state === "unknown" || running
                        }
                        {...rp}
                        onConfirm={async (reason) => {
                          const s = await control({
                            name: m.name,
                            action,
                            reason,
                          });
                          return `${action[0].toUpperCase() + action.slice(1)}: now ${STATE_WORDS[s.state] ?? s.state}.`;
                        }}
                      />
                    ),
                  )}
                </div>
                <h3>Dry-run report</h3>
                <Report api={props.api} name={m.name} dryRun />
                <h3>Latest run</h3>
                <Report api={props.api} name={m.name} dryRun={false} />
              </article>
            );
          })
        )}
      </section>
    </PanelRoot>
  );
}
