/**
 * The operational panels: migrations (progress, dry-run report, failures,
 * run/pause/resume/cancel/rollback), rate limits (live value, reset), and
 * roles and members (grant, revoke). Every change asks for a reason.
 */
import { useMutation } from "convex/react";
import { useEffect, useState } from "react";
import type { MigrationRow, OpsApi } from "../ops/validators.js";
import { statusAt } from "../rateLimiter/client/status.js";
import {
  EmptyRow,
  ErrorBox,
  LoadMoreButton,
  PanelRoot,
  ReasonAction,
  useConsoleConfig,
  type ConsoleConfig,
} from "./common.js";
import { formatTime, showValue } from "./format.js";
import { useOpsPages, useOpsQuery } from "./hooks.js";

function reasonProps(config: ConsoleConfig | undefined) {
  return {
    minLength: config?.reason.minLength,
    reasonHint: config?.reason.hint,
  };
}

function Progress({ row }: { row: MigrationRow }) {
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

const STATE_WORDS: Record<string, string> = {
  inProgress: "running",
  success: "complete",
  failed: "failed",
  canceled: "canceled",
  paused: "paused",
  unknown: "not started",
};

function Report(props: {
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

/** The current value of a rate limit for a name and key, live, with an audited reset. */
export function RateLimitsPanel(props: {
  api: Pick<OpsApi, "opsConfig" | "rateLimitValue" | "rateLimitReset">;
  unstyled?: boolean;
}) {
  const config = useConsoleConfig(props.api);
  const names = config.data?.rateLimits ?? [];
  const [name, setName] = useState("");
  const [keyInput, setKeyInput] = useState("");
  const [shown, setShown] = useState<{ name: string; key?: string } | null>(
    null,
  );
  const value = useOpsQuery(props.api.rateLimitValue, shown ?? "skip");
  const reset = useMutation(props.api.rateLimitReset);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const selected = name || names[0]?.name || "";
  const data = value.data;
  const status = data ? statusAt(data, Math.max(now, data.ts)) : undefined;
  const capacity = data ? (data.config.capacity ?? data.config.rate) : 0;
  return (
    <PanelRoot unstyled={props.unstyled}>
      <section className="opskit-panel" aria-labelledby="opskit-rl-h">
        <h2 id="opskit-rl-h">Rate limits</h2>
        <form
          className="opskit-filters"
          aria-label="Rate limit lookup"
          onSubmit={(e) => {
            e.preventDefault();
            if (selected)
              setShown({
                name: selected,
                ...(keyInput.trim() ? { key: keyInput.trim() } : {}),
              });
          }}
        >
          <label className="opskit-field">
            Limit
            <select
              aria-label="Limit"
              value={selected}
              onChange={(e) => setName(e.target.value)}
            >
              {names.map((n) => (
                <option key={n.name} value={n.name}>
                  {n.name} ({n.kind})
                </option>
              ))}
            </select>
          </label>
          <label className="opskit-field">
            Key
            <input
              aria-label="Key"
              value={keyInput}
              placeholder="e.g. a user id (blank: global)"
              onChange={(e) => setKeyInput(e.target.value)}
            />
          </label>
          <button
            type="submit"
            className="opskit-btn opskit-btn-primary"
            disabled={!selected}
          >
            Show value
          </button>
        </form>
        {config.error && <ErrorBox error={config.error} />}
        {value.error && <ErrorBox error={value.error} />}
        {shown && data && status && (
          <div role="region" aria-label={`Rate limit ${shown.name}`}>
            <div className="opskit-grid">
              <div className="opskit-stat">
                <span className="opskit-muted">Available now</span>
                <b aria-label="Available now">
                  {Math.floor(status.value * 100) / 100} / {capacity}
                </b>
              </div>
              <div className="opskit-stat">
                <span className="opskit-muted">Rate</span>
                <b>
                  {data.config.rate} per {Math.round(data.config.period / 1000)}{" "}
                  s
                </b>
              </div>
              <div className="opskit-stat">
                <span className="opskit-muted">Next request</span>
                <b>
                  {status.ok
                    ? "allowed"
                    : `denied for ${Math.ceil((status.retryAfter ?? 0) / 1000)} s`}
                </b>
              </div>
            </div>
            <div
              className="opskit-progress"
              role="meter"
              aria-label={`${shown.name} available`}
              aria-valuemin={0}
              aria-valuemax={capacity}
              aria-valuenow={Math.max(0, status.value)}
            >
              <div
                style={{
                  width: `${capacity ? Math.max(0, Math.min(100, (status.value / capacity) * 100)) : 0}%`,
                }}
              />
            </div>
            {data.penaltyUntil !== undefined && data.penaltyUntil > now && (
              <p className="opskit-warn">
                Locked out by a penalty until {formatTime(data.penaltyUntil)}.
              </p>
            )}
            <div style={{ marginTop: 12 }}>
              <ReasonAction
                label="Reset"
                ariaLabel={`Reset ${shown.name}${shown.key ? ` for ${shown.key}` : ""}`}
                danger
                description="Deletes this key's state: the next request starts with a full allowance. Recorded in the audit log."
                {...reasonProps(config.data)}
                onConfirm={async (reason) => {
                  await reset({ ...shown, reason });
                  return `Reset recorded in the audit log for ${shown.name}${shown.key ? ` / ${shown.key}` : ""}.`;
                }}
              />
            </div>
          </div>
        )}
      </section>
    </PanelRoot>
  );
}

type Member = { userId: string; role: string; expiresAt?: number };

/** Members of a scope (or global grants) with their roles; grant and revoke with a reason. */
export function RolesPanel(props: {
  api: Pick<OpsApi, "opsConfig" | "roleMembers" | "grantRole" | "revokeRole">;
  unstyled?: boolean;
}) {
  const config = useConsoleConfig(props.api);
  const [scopeInput, setScopeInput] = useState("");
  const [scope, setScope] = useState<string | undefined>(undefined);
  const members = useOpsPages(
    props.api.roleMembers,
    scope !== undefined ? { scope } : {},
    25,
    (m: Member) => `${m.userId}\u0000${m.role}`,
  );
  const grant = useMutation(props.api.grantRole);
  const revoke = useMutation(props.api.revokeRole);
  const [userId, setUserId] = useState("");
  const assignable = (config.data?.roles ?? []).filter((r) => r.assignable);
  const [role, setRole] = useState("");
  const chosenRole = role || assignable[0]?.name || "";
  const rp = reasonProps(config.data);
  return (
    <PanelRoot unstyled={props.unstyled}>
      <section className="opskit-panel" aria-labelledby="opskit-roles-h">
        <h2 id="opskit-roles-h">Roles and members</h2>
        <form
          className="opskit-filters"
          aria-label="Scope lookup"
          onSubmit={(e) => {
            e.preventDefault();
            setScope(scopeInput.trim() || undefined);
          }}
        >
          <label className="opskit-field">
            Scope
            <input
              aria-label="Scope"
              value={scopeInput}
              placeholder="e.g. team:acme (blank: global)"
              onChange={(e) => setScopeInput(e.target.value)}
            />
          </label>
          <button type="submit" className="opskit-btn opskit-btn-primary">
            Show members
          </button>
        </form>
        {members.error ? (
          <ErrorBox error={members.error} />
        ) : members.status === "loading" ? (
          <p className="opskit-muted">Loading…</p>
        ) : (
          <table
            className="opskit-table"
            aria-label={`Members of ${scope ?? "global roles"}`}
          >
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th>Expires</th>
                <th>
                  <span className="opskit-muted">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.rows.map((m) => (
                <tr key={`${m.userId}:${m.role}`}>
                  <td>{m.userId}</td>
                  <td>
                    <span className="opskit-badge">{m.role}</span>
                  </td>
                  <td>{m.expiresAt ? formatTime(m.expiresAt) : "never"}</td>
                  <td>
                    {m.userId === config.data?.actorId ? (
                      <span className="opskit-muted">you</span>
                    ) : scope === undefined &&
                      config.data?.roles.some(
                        (r) => r.name === m.role && !r.assignable,
                      ) ? (
                      // Global grants of a role beyond the viewer's own are
                      // refused by the server; no button that can only fail.
                      <span className="opskit-muted">beyond your roles</span>
                    ) : (
                      <ReasonAction
                        label="Revoke"
                        ariaLabel={`Revoke ${m.role} from ${m.userId}`}
                        {...rp}
                        onConfirm={async (reason) => {
                          await revoke({
                            userId: m.userId,
                            role: m.role,
                            ...(scope ? { scope } : {}),
                            reason,
                          });
                          return `Revoked ${m.role} from ${m.userId}.`;
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
              {members.rows.length === 0 && (
                <EmptyRow colSpan={4}>
                  Nobody holds a role {scope ? `in ${scope}` : "globally"}.
                </EmptyRow>
              )}
            </tbody>
          </table>
        )}
        <LoadMoreButton pages={members} />
        <h3>Grant a role {scope ? `in ${scope}` : "globally"}</h3>
        <div className="opskit-filters">
          <label className="opskit-field">
            User id
            <input
              aria-label="User id"
              value={userId}
              onChange={(e) => setUserId(e.target.value)}
            />
          </label>
          <label className="opskit-field">
            Role
            <select
              aria-label="Role"
              value={chosenRole}
              onChange={(e) => setRole(e.target.value)}
            >
              {assignable.map((r) => (
                <option key={r.name} value={r.name}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
          <ReasonAction
            label="Grant"
            ariaLabel="Grant role"
            disabled={!userId.trim() || !chosenRole}
            {...rp}
            onConfirm={async (reason) => {
              const r = await grant({
                userId: userId.trim(),
                role: chosenRole,
                ...(scope ? { scope } : {}),
                reason,
              });
              return r.created
                ? `Granted ${chosenRole} to ${userId.trim()}.`
                : `${userId.trim()} already had ${chosenRole}.`;
            }}
          />
        </div>
      </section>
    </PanelRoot>
  );
}
