/**
 * `npm run demo`: runs the example app (convex/) in-process on convex-test,
 * the embedded default, with no account and no network.
 */
import path from "node:path";
import { listEntryPoints, analyseModules } from "../scripts/codegen/analysis.js";
import { readAppComponents } from "../scripts/codegen/appConfig.js";
import { printTable } from "../bench/harness.js";

const root = path.resolve(import.meta.dirname, "..");
const installed = await readAppComponents(root, path.join(root, "convex/convex.config.ts"));
const rows: Array<Record<string, string | number>> = [];
for (const c of installed) {
  const cap = c.importSpecifier.replace(/^convex-opskit\//, "");
  const dir = path.join(root, "src", cap, "component");
  const fns = await analyseModules(dir, listEntryPoints(dir));
  const names = Object.entries(fns).flatMap(([m, { functions }]) =>
    functions.filter((f) => f.visibility.kind === "public").map((f) => `${m.replace(/\.js$/, "")}.${f.name}`),
  );
  rows.push({ component: c.name, "installed from": c.importSpecifier, functions: names.length, names: names.join(", ") });
}
printTable("Components installed by convex/convex.config.ts", rows);
