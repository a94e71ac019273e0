/**
 * `npm run size:react`: what `convex-opskit/react` adds to a user's browser
 * bundle, measured with esbuild: the built entry (`dist/react/index.js`)
 * bundled for the browser with the peer dependencies (`react`, `convex`)
 * left out, as an app already ships them; minified, then gzipped. Also
 * fails if the entry pulls in a Node built-in.
 */
import { build } from "esbuild";
import { builtinModules } from "node:module";
import { existsSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

const root = process.cwd();
const entry = path.join(root, "dist", "react", "index.js");
if (!existsSync(entry)) {
  console.error(
    "size:react: run `npm run build` first (dist/react/index.js is missing)",
  );
  process.exit(1);
}
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const result = await build({
  entryPoints: [entry],
  bundle: true,
  write: false,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  metafile: true,
  external: ["react", "react/*", "react-dom", "convex", "convex/*"],
  logLevel: "silent",
});
const inputs = Object.keys(result.metafile.inputs);
const nodeImports = Object.values(result.metafile.inputs).flatMap((i) =>
  i.imports.filter((imp) => builtins.has(imp.path)).map((imp) => imp.path),
);
const js = result.outputFiles[0].contents;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `convex-opskit/react: ${inputs.length} modules, ${kib(js.length)} minified, ${kib(gzipSync(js, { level: 9 }).length)} minified+gzipped (react and convex are peer dependencies, not counted)`,
);
if (nodeImports.length > 0) {
  console.error(
    `size:react: Node built-ins in the browser entry: ${nodeImports.join(", ")}`,
  );
  process.exit(1);
}
