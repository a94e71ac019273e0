/**
 * convex's own codegen templates (convex/dist/esm/cli/codegen_templates),
 * loaded offline. Two of them reach CLI-only modules; those two imports are
 * replaced by small local equivalents while bundling with esbuild.
 */
import { build } from "esbuild";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { listEntryPoints } from "./analysis.js";

/** A component folder, in the shape the templates expect. */
export type ComponentDir = { isRoot: boolean; path: string };

/** One analysed function, as the backend's push analysis reports it. */
export type AnalysedFunction = {
  name: string;
  udfType: "Query" | "Mutation" | "Action";
  visibility: { kind: "public" | "internal" };
  args: string;
  returns: string;
};

/** The export tree of a component definition: module segments, then functions. */
export type ExportTree =
  | { type: "leaf"; leaf: string }
  | { type: "branch"; branch: Array<[string, ExportTree]> };

/** What the backend's analysis returns for one component definition. */
export type Analysis = {
  definition: {
    childComponents: Array<{ name: string; path: string }>;
    exports: ExportTree;
    envVars: unknown[];
  };
  functions: Record<string, { functions: AnalysedFunction[] }>;
};

type StartPush = { analysis: Record<string, Analysis> };
type ApiOpts = { staticApi: boolean; useComponentApiImports: boolean };

const ctx = {
  crash: async (e: { printedMessage?: string }): Promise<never> => {
    throw new Error(`codegen: ${e.printedMessage ?? "failed"}`);
  },
};

/** Loads the templates and binds them to an offline context. */
export async function loadTemplates(root: string) {
  const dir = path.join(
    root,
    "node_modules/convex/dist/esm/cli/codegen_templates",
  );
  const entry = `
    export * from ${JSON.stringify(path.join(dir, "component_api.js"))};
    export * from ${JSON.stringify(path.join(dir, "component_server.js"))};
    export * from ${JSON.stringify(path.join(dir, "server.js"))};
    export * from ${JSON.stringify(path.join(dir, "dataModel.js"))};
  `;
  const result = await build({
    stdin: { contents: entry, resolveDir: dir, loader: "js" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    logLevel: "silent",
    plugins: [
      {
        name: "offline-stubs",
        setup(b) {
          b.onResolve({ filter: /bundler\/index\.js$/ }, () => ({
            path: "bundler",
            namespace: "stub",
          }));
          b.onResolve({ filter: /directoryStructure\.js$/ }, () => ({
            path: "dirs",
            namespace: "stub",
          }));
          b.onLoad({ filter: /.*/, namespace: "stub" }, (args) => ({
            loader: "js",
            contents:
              args.path === "bundler"
                ? `export const entryPoints = async (_ctx, dir) => globalThis.__opskitEntryPoints(dir);`
                : `export const toComponentDefinitionPath = (_root, c) => c.path;
                   export const toAbsolutePath = (_root, p) => p;`,
          }));
        },
      },
    ],
  });
  const out = path.join(
    mkdtempSync(path.join(tmpdir(), "opskit-codegen-")),
    "templates.mjs",
  );
  writeFileSync(out, result.outputFiles[0].text);
  (globalThis as Record<string, unknown>).__opskitEntryPoints = (d: string) =>
    listEntryPoints(d).map((m) => path.join(d, m));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const m: any = await import(pathToFileURL(out).href);
  return {
    dynamicDataModelTS: m.dynamicDataModelTS as () => string,
    dynamicDataModelDTS: m.dynamicDataModelDTS as () => string,
    noSchemaDataModelTS: m.noSchemaDataModelTS as () => string,
    noSchemaDataModelDTS: m.noSchemaDataModelDTS as () => string,
    componentServerTS: m.componentServerTS as (
      isRoot: boolean,
      envVars: unknown[],
    ) => string,
    serverCodegen: m.serverCodegen as (o: {
      useTypeScript: boolean;
      envVars: unknown[];
    }) => {
      JS?: string;
      DTS?: string;
      TS?: string;
    },
    componentApiJs: m.componentApiJs as () => string,
    componentTS: (
      s: StartPush,
      root: ComponentDir,
      c: ComponentDir,
    ): Promise<string> => m.componentTS(ctx, s, root, c),
    componentApiTSWithTypes: (
      s: StartPush,
      root: ComponentDir,
      c: ComponentDir,
      map: Map<string, { importSpecifier: string }>,
      o: ApiOpts,
    ): Promise<string> => m.componentApiTSWithTypes(ctx, s, root, c, map, o),
    componentApiDTS: (
      s: StartPush,
      root: ComponentDir,
      c: ComponentDir,
      map: Map<string, { importSpecifier: string }>,
      o: ApiOpts,
    ): Promise<string> => m.componentApiDTS(ctx, s, root, c, map, o),
    exportTree,
  };
}

/** Public functions, grouped by module path segments, as the definition exports them. */
function exportTree(functions: Analysis["functions"]): ExportTree {
  const root: { type: "branch"; branch: Array<[string, ExportTree]> } = {
    type: "branch",
    branch: [],
  };
  for (const [modulePath, mod] of Object.entries(functions)) {
    const segments = modulePath.replace(/\.js$/, "").split("/");
    for (const f of mod.functions) {
      if (f.visibility.kind !== "public") continue;
      let node: ExportTree = root;
      for (const s of segments) {
        if (node.type !== "branch")
          throw new Error(`codegen: ${modulePath} clashes with a function`);
        let next: ExportTree | undefined = node.branch.find(
          ([n]) => n === s,
        )?.[1];
        if (!next) {
          next = { type: "branch", branch: [] };
          node.branch.push([s, next]);
        }
        node = next;
      }
      if (node.type !== "branch")
        throw new Error(`codegen: ${modulePath} clashes with a function`);
      node.branch.push([
        f.name,
        {
          type: "leaf",
          leaf: `_reference/function/${modulePath.replace(/\.js$/, "")}:${f.name}`,
        },
      ]);
    }
  }
  return root;
}
