/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import opskit, { withProductionLimits } from "convex-opskit/test";
import schema from "../../convex/schema";

/** The example app's modules, as `npx convex dev` would deploy them. */
export const modules = import.meta.glob("../../convex/**/*.*s");

/**
 * A fresh deployment of the example app with all four components, under
 * production limits (transaction limits, and the document-limits check of
 * every table after the test).
 */
export async function exampleApp() {
  const t = withProductionLimits(
    convexTest({ schema, modules, transactionLimits: true }),
    { schema },
  );
  opskit.registerAll(t);
  return t;
}
