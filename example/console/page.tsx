/**
 * The console page: the example's `<AdminPage>` (`<OpsConsole>` from
 * `convex-opskit/react`, exactly as an app mounts it), inside `ConvexProvider` with the local HTTP client, plus
 * the demo's sign-in switch.
 */
import { ConvexProvider } from "convex/react";
import { StrictMode, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { AdminPage } from "./AdminPage.js";
import { HttpReactClient } from "./client.js";

const USERS = [
  { userId: "alice", label: "Alice (admin)" },
  { userId: "sam", label: "Sam (support)" },
  { userId: "bob", label: "Bob (member)" },
];

function App() {
  const client = useMemo(() => new HttpReactClient(`${location.origin}/`), []);
  const [user, setUser] = useState(() => {
    const wanted = new URLSearchParams(location.search).get("as");
    const id = USERS.some((u) => u.userId === wanted) ? wanted! : "sam";
    client.setUser(id);
    return id;
  });
  return (
    <ConvexProvider client={client.asReactClient()}>
      <div
        style={{
          display: "flex",
          gap: 12,
          alignItems: "center",
          padding: "10px 16px",
          background: "#1c2430",
          color: "#fff",
          fontFamily: "system-ui, sans-serif",
          fontSize: 14,
        }}
      >
        <strong>convex-opskit</strong>
        <span style={{ opacity: 0.7 }}>example app on convex-test</span>
        <label style={{ marginLeft: "auto" }}>
          Sign in as{" "}
          <select
            aria-label="Sign in as"
            value={user}
            onChange={(e) => {
              client.setUser(e.target.value);
              setUser(e.target.value);
            }}
          >
            {USERS.map((u) => (
              <option key={u.userId} value={u.userId}>
                {u.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <AdminPage key={user} />
    </ConvexProvider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
