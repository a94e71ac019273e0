/**
 * Bench harness: convex-test outside vitest. `import.meta.glob` is a Vite
 * feature, so module maps are built here from the file system and loaded
 * with dynamic `import()` (run the benches with tsx).
 */
import type { GenericSchema, SchemaDefinition } from "convex/server";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository's root folder. */
export const root = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
);

/**
 * Quick mode (`npm run bench -- --quick`, or OPSKIT_BENCH_QUICK=1): every
 * suite runs its code paths on small sizes, for the test that checks the
 * bench runs to the end and exits. Its figures mean nothing.
 */
export const QUICK = process.env.OPSKIT_BENCH_QUICK === "1";

/** `full` normally, `quick` in quick mode. */
export function sized<T>(full: T, quick: T): T {
  return QUICK ? quick : full;
}

/**
 * A convex-test module map for every `.ts`/`.js` file under `dir` (recursively),
 * keyed relative to `dir` the way `import.meta.glob("./**")` keys them.
 * `.d.ts`, `.map` and test files are skipped.
 */
export function modulesFromDir(
  dir: string,
): Record<string, () => Promise<unknown>> {
  const out: Record<string, () => Promise<unknown>> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) {
        walk(full);
        continue;
      }
      if (
        !/\.(ts|js)$/.test(name) ||
        name.endsWith(".d.ts") ||
        /\.test\./.test(name)
      )
        continue;
      const key = "./" + path.relative(dir, full).split(path.sep).join("/");
      out[key] = () => import(pathToFileURL(full).href);
    }
  };
  walk(dir);
  return out;
}

/**
 * The two sides of a comparison bench: our component (`src/<capability>/component`)
 * and the anchor package's built component (`node_modules/<theirComponent>`).
 * Module maps are made afresh on each call, as each bench's setup did.
 *
 * @example
 * const sides = benchSetup("auditLog", "convex-table-history/dist/esm/component");
 * t.registerComponent("auditLog", ourSchema, sides.ourModules());
 * t.registerComponent("tableHistory", await sides.theirSchema(), sides.theirModules());
 */
export function benchSetup(capability: string, theirComponent: string) {
  const theirDir = path.join(root, "node_modules", theirComponent);
  return {
    /** The folder of the anchor's component (its `schema.js`, `internal.js`, ...). */
    theirDir,
    /** The module map of our component. */
    ourModules: () =>
      modulesFromDir(path.join(root, "src", capability, "component")),
    /** The module map of the anchor's component. */
    theirModules: () => modulesFromDir(theirDir),
    /**
     * The anchor's component schema: the packages export no schema path, so
     * the file the component itself uses.
     */
    theirSchema: async () =>
      (
        (await import(
          pathToFileURL(path.join(theirDir, "schema.js")).href
        )) as {
          default: SchemaDefinition<GenericSchema, boolean>;
        }
      ).default,
  };
}

/**
 * A module map for an in-memory app: the given exports stand for one module
 * file (`./<name>.ts`), plus the `_generated` marker convex-test needs.
 */
export function appModules(
  files: Record<string, Record<string, unknown>>,
): Record<string, () => Promise<unknown>> {
  const out: Record<string, () => Promise<unknown>> = {
    "./_generated/api.ts": async () => ({}),
  };
  for (const [name, exports] of Object.entries(files))
    out[`./${name}.ts`] = async () => exports;
  return out;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

/** Prints a table of rows (objects with the same keys) as aligned text. */
export function printTable(
  title: string,
  rows: Array<Record<string, string | number>>,
): void {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const cell = (v: string | number) =>
    typeof v === "number"
      ? Number.isInteger(v)
        ? String(v)
        : v.toFixed(2)
      : v;
  const widths = cols.map((c) =>
    Math.max(c.length, ...rows.map((r) => cell(r[c] ?? "").length)),
  );
  const line = (vals: string[]) =>
    "| " + vals.map((v, i) => v.padEnd(widths[i])).join(" | ") + " |";
  console.log(line(cols));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c] ?? ""))));
}
