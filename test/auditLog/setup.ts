/** A convex-test instance for auditLog tests, with the tamper module installed in the component. */
import type { GenericSchema, SchemaDefinition } from "convex/server";
import opskit from "../../src/test.js";
import { opskitTest } from "../helpers.js";
import { schema } from "./app.js";

/** The app's functions live in app.ts; call them as `anyApi.app.<name>`. */
export function auditTest() {
  const t = opskitTest({ "./app.ts": () => import("./app.js") }, schema);
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
