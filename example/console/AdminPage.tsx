/** The example app's admin page: the whole console, one line. */
import { OpsConsole } from "convex-opskit/react";
import { api } from "../../convex/_generated/api";

export function AdminPage() {
  return <OpsConsole api={api.ops} />;
}
