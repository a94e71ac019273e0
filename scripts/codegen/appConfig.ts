/**
 * Reads an app's `convex.config.ts` the way the Convex bundler does: bundle
 * it, give each imported component definition the `componentDefinitionPath`
 * the bundler would set, evaluate it, and list the `app.use(...)` instances
 * with the import specifier each came from.
 */
import { build } from "esbuild";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** One installed child component: its instance name, and where it was imported from. */
export type ChildComponent = {
  name: string;
  path: string;
  importSpecifier: string;
};

const DEFINITION = /\/convex\.config(\.[cm]?[jt]s)?$/;

/** The `app.use(...)` instances of the app, in declaration order. */
export async function readAppComponents(
  root: string,
  configFile: string,
): Promise<ChildComponent[]> {
  const result = await build({
    entryPoints: [configFile],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    logLevel: "silent",
    absWorkingDir: root,
    conditions: ["convex-opskit-source"],
    plugins: [
      {
        name: "component-definitions",
        setup(b) {
          b.onResolve({ filter: DEFINITION }, async (args) => {
            if (args.pluginData === "inner" || args.importer !== configFile)
              return undefined;
            const real = await b.resolve(args.path, {
              resolveDir: args.resolveDir,
              kind: args.kind,
              pluginData: "inner",
            });
            if (real.errors.length > 0) return { errors: real.errors };
            return {
              path: real.path,
              namespace: "definition",
              pluginData: args.path,
            };
          });
          b.onLoad({ filter: /.*/, namespace: "definition" }, (args) => ({
            loader: "js",
            resolveDir: path.dirname(args.path),
            contents: `import d from ${JSON.stringify(args.path)};
              d.componentDefinitionPath = ${JSON.stringify(args.pluginData)};
              d.defaultName = d._name;
              export default d;`,
          }));
        },
      },
    ],
  });
  const out = path.join(
    mkdtempSync(path.join(tmpdir(), "opskit-config-")),
    "config.mjs",
  );
  writeFileSync(out, result.outputFiles[0].text);
  const app = (await import(pathToFileURL(out).href)).default as {
    _childComponents: Array<[string, { componentDefinitionPath: string }]>;
  };
  return app._childComponents.map(([name, def]) => ({
    name,
    path: def.componentDefinitionPath,
    importSpecifier: def.componentDefinitionPath.replace(
      /\/convex\.config(\.[cm]?[jt]s)?$/,
      "",
    ),
  }));
}
