/**
 * Bundles every function module of every component (sources and, when built,
 * `dist/`) and of the example app the way the Convex CLI does for its
 * default runtime, and fails on a bundling error or any Node built-in import.
 * A real deployment rejects such modules, while convex-test (running in
 * Node) would not notice them.
 */
import { build, type Plugin } from "esbuild";
import { builtinModules } from "node:module";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { listEntryPoints } from "./codegen/analysis.js";

const root = process.cwd();
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
// The Convex runtime shims async_hooks' AsyncLocalStorage; everything else is absent.
const allowed = new Set(["async_hooks", "node:async_hooks"]);

const forbidNodeBuiltins = (offenders: string[]): Plugin => ({
  name: "forbid-node-builtins",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.split("/")[0];
      if (
        (builtins.has(args.path) || builtins.has(bare)) &&
        !allowed.has(args.path)
      ) {
        offenders.push(
          `${path.relative(root, args.importer)} imports "${args.path}"`,
        );
        return { path: args.path, external: true };
      }
      return undefined;
    });
  },
});

function targets(): Array<{
  label: string;
  dir: string;
  conditions: string[];
}> {
  const out: Array<{ label: string; dir: string; conditions: string[] }> = [];
  for (const base of ["src", "dist"]) {
    if (!existsSync(path.join(root, base))) continue;
    for (const cap of readdirSync(path.join(root, base)).sort()) {
      const dir = path.join(root, base, cap, "component");
      if (
        existsSync(path.join(dir, "convex.config.ts")) ||
        existsSync(path.join(dir, "convex.config.js"))
      )
        out.push({ label: `${base}/${cap}/component`, dir, conditions: [] });
    }
  }
  // The app resolves convex-opskit to dist/ when built (what a user gets), else to src/.
  out.push({
    label: "convex",
    dir: path.join(root, "convex"),
    conditions: existsSync(path.join(root, "dist"))
      ? []
      : ["convex-opskit-source"],
  });
  return out;
}

let failed = false;
for (const { label, dir, conditions } of targets()) {
  const entryPoints = listEntryPoints(dir)
    .filter((m) => !m.endsWith(".d.ts"))
    .map((m) => path.join(dir, m));
  // The CLI bundles the definition (convex.config) separately; it must bundle too.
  for (const def of ["convex.config.ts", "convex.config.js"])
    if (existsSync(path.join(dir, def))) entryPoints.push(path.join(dir, def));
  const offenders: string[] = [];
  try {
    const result = await build({
      entryPoints,
      bundle: true,
      platform: "browser",
      format: "esm",
      target: "esnext",
      conditions: ["convex", "module", ...conditions],
      outdir: "out",
      outbase: dir,
      write: false,
      splitting: true,
      treeShaking: true,
      metafile: true,
      logLevel: "silent",
      plugins: [forbidNodeBuiltins(offenders)],
    });
    const bytes = result.outputFiles.reduce(
      (n, f) => n + f.contents.byteLength,
      0,
    );
    if (offenders.length > 0) {
      failed = true;
      console.error(
        `✗ ${label}: Node built-ins are not available in the Convex runtime:`,
      );
      for (const o of offenders) console.error(`    ${o}`);
    } else {
      console.log(
        `✓ ${label}: ${entryPoints.length} file(s), ${(bytes / 1024).toFixed(1)} KiB`,
      );
    }
  } catch (e) {
    failed = true;
    const errors = (
      e as {
        errors?: Array<{
          text: string;
          location?: { file: string; line: number };
        }>;
      }
    ).errors;
    console.error(`✗ ${label}: bundling failed`);
    for (const err of errors ?? [{ text: String(e) }])
      console.error(
        `    ${err.location ? `${err.location.file}:${err.location.line}: ` : ""}${err.text}`,
      );
  }
}
process.exit(failed ? 1 : 0);
