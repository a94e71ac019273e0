/**
 * `<OpsConsole api={api.ops} />`: every panel behind keyboard-usable tabs,
 * for the user signed in to the app's `ConvexReactClient`.
 */
import { useRef, useState, type KeyboardEvent } from "react";
import type { OpsApi } from "../ops/validators.js";
import { AuditOperations, AuditTrail } from "./audit.js";
import { ErrorBox, StyledContext, useConsoleConfig } from "./common.js";
import { MigrationsPanel } from "./migrations.js";
import { RateLimitsPanel } from "./rateLimits.js";
import { RolesPanel } from "./roles.js";
import { VerifyStatus } from "./verify.js";
import { opsConsoleCss } from "./styles.js";

/** The console's tabs. */
export type OpsTab =
  "trail" | "operations" | "verify" | "migrations" | "rateLimits" | "roles";

const TABS: Array<{ id: OpsTab; label: string }> = [
  { id: "trail", label: "Audit trail" },
  { id: "operations", label: "Operations" },
  { id: "verify", label: "Verify" },
  { id: "migrations", label: "Migrations" },
  { id: "rateLimits", label: "Rate limits" },
  { id: "roles", label: "Roles" },
];

/** Props of {@link OpsConsole}. */
export type OpsConsoleProps = {
  /** The module where you exported `opsApi(...)`'s functions: `api.ops`. */
  api: OpsApi;
  /** Heading shown at the top. Default "Operations console". */
  title?: string;
  /** Tab shown first. Default "trail". */
  initialTab?: OpsTab;
  /** Extra class on the root element (`.opskit`). */
  className?: string;
  /** Leave out the built-in stylesheet and style the `opskit-*` classes yourself. */
  unstyled?: boolean;
};

/**
 * The admin console: audit trail with filters and export, operations with
 * diffs and revert, verification, migrations, rate limits, roles. Live
 * through the app's `ConvexReactClient`; every change asks for a reason.
 *
 * @example
 * ```tsx
 * import { OpsConsole } from "convex-opskit/react";
 * import { api } from "../convex/_generated/api";
 * export const AdminPage = () => <OpsConsole api={api.ops} />;
 * ```
 */
export function OpsConsole(props: OpsConsoleProps) {
  const [tab, setTab] = useState<OpsTab>(props.initialTab ?? "trail");
  const config = useConsoleConfig(props.api);
  const tabRefs = useRef<Array<HTMLButtonElement | null>>([]);
  const onKey = (e: KeyboardEvent, i: number) => {
    const next =
      e.key === "ArrowRight"
        ? (i + 1) % TABS.length
        : e.key === "ArrowLeft"
          ? (i - 1 + TABS.length) % TABS.length
          : e.key === "Home"
            ? 0
            : e.key === "End"
              ? TABS.length - 1
              : -1;
    if (next < 0) return;
    e.preventDefault();
    setTab(TABS[next].id);
    tabRefs.current[next]?.focus();
  };
  return (
    <div className={`opskit ${props.className ?? ""}`.trim()}>
      {!props.unstyled && <style>{opsConsoleCss}</style>}
      <StyledContext.Provider value={true}>
        <header className="opskit-header">
          <h1>{props.title ?? "Operations console"}</h1>
          {config.data && (
            <span className="opskit-who">
              Signed in as <strong>{config.data.actorId}</strong>
            </span>
          )}
        </header>
        {config.error ? (
          <ErrorBox error={config.error} />
        ) : (
          <>
            <div
              className="opskit-tabs"
              role="tablist"
              aria-label="Console sections"
            >
              {TABS.map((t, i) => (
                <button
                  key={t.id}
                  ref={(el) => {
                    tabRefs.current[i] = el;
                  }}
                  type="button"
                  role="tab"
                  id={`opskit-tab-${t.id}`}
                  aria-selected={tab === t.id}
                  aria-controls={`opskit-tabpanel-${t.id}`}
                  tabIndex={tab === t.id ? 0 : -1}
                  className="opskit-tab"
                  onClick={() => setTab(t.id)}
                  onKeyDown={(e) => onKey(e, i)}
                >
                  {t.label}
                </button>
              ))}
            </div>
            <div
              role="tabpanel"
              id={`opskit-tabpanel-${tab}`}
              aria-labelledby={`opskit-tab-${tab}`}
            >
              {tab === "trail" && <AuditTrail api={props.api} />}
              {tab === "operations" && <AuditOperations api={props.api} />}
              {tab === "verify" && <VerifyStatus api={props.api} />}
              {tab === "migrations" && <MigrationsPanel api={props.api} />}
              {tab === "rateLimits" && <RateLimitsPanel api={props.api} />}
              {tab === "roles" && <RolesPanel api={props.api} />}
            </div>
          </>
        )}
      </StyledContext.Provider>
    </div>
  );
}
