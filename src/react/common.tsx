/**
 * Building blocks shared by the console panels: the stylesheet injector,
 * the error box, the reason form every change goes through, and the
 * context that carries the signed-in user's console config.
 */
import type { FunctionReturnType } from "convex/server";
import {
  createContext,
  useContext,
  useEffect,
  useId,
  useState,
  type FormEvent,
  type ReactNode,
} from "react";
import type { OpsApi } from "../ops/validators.js";
import { describeError } from "./format.js";
import { useOpsQuery } from "./hooks.js";
import { opsConsoleCss } from "./styles.js";

/** The signed-in user's console config (permissions, names), as `opsConfig` returns it. */
export type ConsoleConfig = FunctionReturnType<OpsApi["opsConfig"]>;

/** Set by `<OpsConsole>` so panels inside it do not add the stylesheet again. */
export const StyledContext = createContext(false);

/** Adds the stylesheet and the `.opskit` root unless an enclosing console did. */
export function PanelRoot(props: {
  children: ReactNode;
  className?: string;
  unstyled?: boolean;
}) {
  const styled = useContext(StyledContext);
  if (styled) return <>{props.children}</>;
  return (
    <div className={`opskit ${props.className ?? ""}`.trim()}>
      {!props.unstyled && <style>{opsConsoleCss}</style>}
      <StyledContext.Provider value={true}>
        {props.children}
      </StyledContext.Provider>
    </div>
  );
}

/** A server error in words: what happened and what the user can do. */
export function ErrorBox({ error }: { error: unknown }) {
  const d = describeError(error);
  return (
    <div className="opskit-error" role="alert">
      <strong>{d.title}</strong>
      <p>{d.detail}</p>
      <p className="opskit-muted">{d.action}</p>
    </div>
  );
}

/** Loads the console config; panels use it for names and the reason policy. */
export function useConsoleConfig(api: Pick<OpsApi, "opsConfig">) {
  return useOpsQuery(api.opsConfig, {});
}

/**
 * A button that asks for a reason before it acts. The reason is sent with
 * the change and recorded in the audit log; errors stay next to the form.
 */
export function ReasonAction(props: {
  /** The button's text, e.g. "Revert". */
  label: string;
  /** Accessible name when the label alone is ambiguous (e.g. "Revoke moderator from bob"). */
  ariaLabel?: string;
  /** What the change does, shown above the reason. */
  description?: string;
  reasonHint?: string;
  minLength?: number;
  danger?: boolean;
  disabled?: boolean;
  /** Extra inputs (e.g. an "overwrite" checkbox), rendered in the form. */
  extra?: ReactNode;
  onConfirm: (reason: string) => Promise<string | void>;
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const id = useId();
  useEffect(() => {
    if (done === undefined) return;
    const t = setTimeout(() => setDone(undefined), 8000);
    return () => clearTimeout(t);
  }, [done]);
  const minLength = props.minLength ?? 1;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const message = await props.onConfirm(reason.trim());
      setDone(message || `${props.label}: done`);
      setOpen(false);
      setReason("");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (!open)
    return (
      <span className="opskit-actions">
        <button
          type="button"
          className={`opskit-btn ${props.danger ? "opskit-btn-danger" : ""}`}
          aria-label={props.ariaLabel}
          disabled={props.disabled}
          onClick={() => {
            setOpen(true);
            setDone(undefined);
            setError(undefined);
          }}
        >
          {props.label}
        </button>
        {done && (
          <span className="opskit-notice" role="status">
            {done}
          </span>
        )}
      </span>
    );
  return (
    <form
      className="opskit-reason"
      aria-label={`${props.ariaLabel ?? props.label}: give a reason`}
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === "Escape") setOpen(false);
      }}
    >
      {props.description && <p style={{ marginTop: 0 }}>{props.description}</p>}
      <label className="opskit-field" htmlFor={`${id}-reason`}>
        Reason (recorded in the audit log)
      </label>
      <textarea
        id={`${id}-reason`}
        value={reason}
        autoFocus
        required
        placeholder={props.reasonHint ? `Include ${props.reasonHint}` : "Why?"}
        onChange={(e) => setReason(e.target.value)}
      />
      <p className="opskit-muted" style={{ margin: "4px 0 8px" }}>
        At least {minLength} characters
        {props.reasonHint ? `, with ${props.reasonHint}` : ""}.
      </p>
      {props.extra}
      {error !== undefined && <ErrorBox error={error} />}
      <div className="opskit-actions">
        <button
          type="submit"
          className={`opskit-btn ${props.danger ? "opskit-btn-danger" : "opskit-btn-primary"}`}
          disabled={busy}
        >
          {busy ? "Working…" : `Confirm ${props.label.toLowerCase()}`}
        </button>
        <button
          type="button"
          className="opskit-btn"
          onClick={() => setOpen(false)}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The row a table shows when a page came back empty. */
export function EmptyRow(props: { colSpan: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={props.colSpan} className="opskit-muted">
        {props.children}
      </td>
    </tr>
  );
}

/** "Load more" under a paged table, shown while the server has more pages. */
export function LoadMoreButton(props: {
  pages: { status: string; loadMore: () => void };
}) {
  if (props.pages.status !== "more") return null;
  return (
    <button
      type="button"
      className="opskit-btn"
      style={{ marginTop: 8 }}
      onClick={props.pages.loadMore}
    >
      Load more
    </button>
  );
}

/** The "Open" link-button in a table row; `label` is its accessible name. */
export function OpenButton(props: { label: string; onClick: () => void }) {
  return (
    <button
      type="button"
      className="opskit-btn-link"
      aria-label={props.label}
      onClick={props.onClick}
    >
      Open
    </button>
  );
}

/** The reason settings of the console config, as `ReasonAction` props. */
export function reasonProps(config: ConsoleConfig | undefined) {
  return {
    minLength: config?.reason.minLength,
    reasonHint: config?.reason.hint,
  };
}
