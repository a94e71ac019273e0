/** The rate limits panel: a limit's live value for a key, and an audited reset. */
import { useMutation } from "convex/react";
import { useEffect, useState } from "react";
import type { OpsApi } from "../ops/validators.js";
import { statusAt } from "../rateLimiter/client/status.js";
import {
  ErrorBox,
  PanelRoot,
  ReasonAction,
  reasonProps,
  useConsoleConfig,
} from "./common.js";
import { formatTime } from "./format.js";
import { useOpsQuery } from "./hooks.js";
import { SelectFilter } from "./parts/SelectFilter.js";
import { TextFilter } from "./parts/TextFilter.js";

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
          <SelectFilter
            label="Limit"
            value={selected}
            onChange={setName}
            options={names.map((n) => ({
              value: n.name,
              text: `${n.name} (${n.kind})`,
            }))}
          />
          <TextFilter
            label="Key"
            value={keyInput}
            placeholder="e.g. a user id (blank: global)"
            onChange={setKeyInput}
          />
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
