/** The roles panel: members of a scope with their roles; grant and revoke with a reason. */
import { useMutation } from "convex/react";
import { useState } from "react";
import type { OpsApi } from "../ops/validators.js";
import {
  EmptyRow,
  ErrorBox,
  LoadMoreButton,
  PanelRoot,
  ReasonAction,
  reasonProps,
  useConsoleConfig,
} from "./common.js";
import { formatTime } from "./format.js";
import { useOpsPages } from "./hooks.js";
import { SelectFilter } from "./parts/SelectFilter.js";
import { TextFilter } from "./parts/TextFilter.js";

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
          <TextFilter
            label="Scope"
            value={scopeInput}
            placeholder="e.g. team:acme (blank: global)"
            onChange={setScopeInput}
          />
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
          <TextFilter label="User id" value={userId} onChange={setUserId} />
          <SelectFilter
            label="Role"
            value={chosenRole}
            onChange={setRole}
            options={assignable.map((r) => ({ value: r.name, text: r.name }))}
          />
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
