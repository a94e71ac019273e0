/** Verification of the audit log's hash chain, on demand. */
import { useAction } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import type { OpsApi } from "../ops/validators.js";
import { ErrorBox, PanelRoot } from "./common.js";
import { formatTime } from "./format.js";

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
