/** A convex-test instance for auditLog tests, with the tamper module installed in the component. */
import type { GenericSchema, SchemaDefinition } from "convex/server";
import opskit from "convex-opskit/test";
import { opskitTest } from "../helpers.js";
import { schema } from "./app.js";

/**
 * The app's functions live in app.ts; call them as `anyApi.app.<name>`.
 * Other test apps pass their own module and schema.
 */
export function auditTest(
  modules: Record<string, () => Promise<unknown>> = {
    "./app.ts": () => import("./app.js"),
  },
  appSchema: SchemaDefinition<GenericSchema, boolean> = schema,
) {
  const t = opskitTest(modules, appSchema);
  t.registerComponent(
    "auditLog",
    opskit.auditLog.schema as SchemaDefinition<GenericSchema, boolean>,
    {
      ...opskit.auditLog.modules,
      "./auditLog/component/tamper.ts": () => import("./tamper.js"),
    },
  );
  return t;
}
