/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import opskit from "convex-opskit/test";
import schema from "../../convex/schema";

/** The example app's modules, as `npx convex dev` would deploy them. */
export const modules = import.meta.glob("../../convex/**/*.*s");

/** A fresh deployment of the example app with all four components, seeded. */
export async function exampleApp() {
  const t = convexTest(schema, modules);
  opskit.registerAll(t);
  return t;
}
