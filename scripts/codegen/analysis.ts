/**
 * The part of a push's analysis that codegen needs, computed locally: which
 * files are function modules, and each registered function's kind,
 * visibility and validators.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { AnalysedFunction, Analysis } from "./templates.js";

const EXTENSIONS = [
  ".js",
  ".mjs",
  ".cjs",
  ".ts",
  ".tsx",
  ".mts",
  ".cts",
  ".jsx",
];

/**
 * Module paths (relative, posix) that the Convex bundler treats as entry
 * points: the same filters as convex's `entryPoints`.
 */
export function listEntryPoints(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (existsSync(path.join(full, "convex.config.ts"))) continue;
        walk(full);
        continue;
      }
      if (!e.isFile()) continue;
      const rel = path.relative(dir, full).split(path.sep).join("/");
      const base = e.name;
      if (rel.startsWith("_deps/"))
        throw new Error(`codegen: ${full} is inside the reserved _deps folder`);
      if (!EXTENSIONS.some((x) => rel.endsWith(x))) continue;
      if (rel.startsWith("_generated/")) continue;
      if (base.startsWith(".") || base.startsWith("#")) continue;
      if (base === "schema.ts" || base === "schema.js") continue;
      if ((base.match(/\./g) ?? []).length > 1) continue;
      if (rel.includes(" ")) continue;
      if (
        (rel.endsWith(".ts") || rel.endsWith(".tsx")) &&
        !/^\s{0,100}(import|export)/m.test(readFileSync(full, "utf8"))
      )
        continue;
      out.push(rel);
    }
  };
  walk(dir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

type Registered = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
  exportArgs: () => string;
  exportReturns: () => string;
};

/** Sorts object fields recursively, as the backend does before returning validators. */
function sortFields(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(sortFields);
  if (json === null || typeof json !== "object") return json;
  const o = json as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(o)) {
    if (
      k === "value" &&
      o.type === "object" &&
      val &&
      typeof val === "object"
    ) {
      const fields = val as Record<string, unknown>;
      const sorted: Record<string, unknown> = {};
      for (const f of Object.keys(fields).sort())
        sorted[f] = sortFields(fields[f]);
      out[k] = sorted;
    } else {
      out[k] = sortFields(val);
    }
  }
  return out;
}

const normalise = (s: string) => JSON.stringify(sortFields(JSON.parse(s)));

/** Imports each module (under tsx) and reads its registered functions. */
export async function analyseModules(
  dir: string,
  modules: string[],
): Promise<Analysis["functions"]> {
  const functions: Analysis["functions"] = {};
  for (const rel of modules) {
    const mod = (await import(
      pathToFileURL(path.join(dir, rel)).href
    )) as Record<string, unknown>;
    const fns: AnalysedFunction[] = [];
    for (const [name, value] of Object.entries(mod)) {
      const f = value as Registered | undefined;
      if (!f || (typeof f !== "function" && typeof f !== "object")) continue;
      const udfType = f.isQuery
        ? "Query"
        : f.isMutation
          ? "Mutation"
          : f.isAction
            ? "Action"
            : null;
      if (!udfType || typeof f.exportArgs !== "function") continue;
      fns.push({
        name,
        udfType,
        visibility: { kind: f.isPublic ? "public" : "internal" },
        args: normalise(f.exportArgs()),
        returns: normalise(f.exportReturns()),
      });
    }
    functions[rel.replace(/\.[^/.]+$/, "") + ".js"] = { functions: fns };
  }
  return functions;
}
