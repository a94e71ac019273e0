/**
 * Offline replacement for `npx convex codegen` (convex 1.48.0).
 *
 * `npx convex codegen` needs a deployment to analyse the code. This script
 * performs that analysis locally (importing each component module and reading
 * its registered functions' validators) and renders the `_generated/` files
 * with convex's own templates, so the output is the same text the CLI writes.
 *
 *   npm run codegen            write every stale `_generated/` file
 *   npm run codegen:check      exit 1 and list the stale files; write nothing
 *
 * Options: `--root DIR` (repo to work on, default cwd), `--app DIR` (app
 * folder, default `convex`), `--components GLOB-DIR` (default `src`).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  loadTemplates,
  type Analysis,
  type ComponentDir,
} from "./codegen/templates.js";
import { analyseModules, listEntryPoints } from "./codegen/analysis.js";
import { readAppComponents, type ChildComponent } from "./codegen/appConfig.js";

const argv = process.argv.slice(2);
const check = argv.includes("--check");
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const root = path.resolve(option("--root", process.cwd()));
const appDir = path.join(root, option("--app", "convex"));
const srcDir = path.join(root, option("--components", "src"));

const stale: string[] = [];
// Format with the prettier the convex CLI itself resolves, as `npx convex codegen` does.
const convexRequire = createRequire(
  path.join(root, "node_modules", "convex", "package.json"),
);
type Prettier = {
  format: (source: string, options: { parser: string }) => Promise<string>;
};
const prettierModule = (await import(
  pathToFileURL(convexRequire.resolve("prettier")).href
)) as Prettier & {
  default?: Prettier;
};
// The resolved entry is CommonJS: its API may sit on the default export.
const prettier: Prettier =
  typeof prettierModule.format === "function"
    ? prettierModule
    : prettierModule.default!;

async function emit(file: string, contents: string) {
  const formatted: string = await prettier.format(contents, {
    parser: "typescript",
  });
  const existing = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  if (existing === formatted) return;
  stale.push(path.relative(root, file));
  if (check) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, formatted);
}

const t = await loadTemplates(root);

/** The templates look child components up by path to find their import specifier. */
function childMap(children: ChildComponent[]) {
  return new Map(
    children.map((c) => [c.path, { importSpecifier: c.importSpecifier }]),
  );
}

function componentDirs(): string[] {
  if (!existsSync(srcDir)) return [];
  return readdirSync(srcDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join(srcDir, d.name, "component"))
    .filter((d) => existsSync(path.join(d, "convex.config.ts")))
    .sort();
}

// Components: always TypeScript codegen (`fileType` is forced to "ts").
for (const dir of componentDirs()) {
  const gen = path.join(dir, "_generated");
  const hasSchema = existsSync(path.join(dir, "schema.ts"));
  await emit(
    path.join(gen, "dataModel.ts"),
    hasSchema ? t.dynamicDataModelTS() : t.noSchemaDataModelTS(),
  );
  // server.ts must exist before the modules (which import it) can be loaded.
  await emit(path.join(gen, "server.ts"), t.componentServerTS(false, []));
  if (
    check &&
    stale.some(
      (f) =>
        f.startsWith(path.relative(root, gen)) &&
        !existsSync(path.join(root, f)),
    )
  ) {
    continue; // cannot analyse a component whose server.ts is missing
  }
  const modules = listEntryPoints(dir);
  const functions = await analyseModules(dir, modules);
  const component: ComponentDir = { isRoot: false, path: dir };
  const children = await readAppComponents(
    root,
    path.join(dir, "convex.config.ts"),
  );
  const analysis: Analysis = {
    definition: {
      childComponents: children,
      exports: t.exportTree(functions),
      envVars: [],
    },
    functions,
  };
  const startPush = { analysis: { [dir]: analysis } };
  await emit(
    path.join(gen, "component.ts"),
    await t.componentTS(startPush, component, component),
  );
  await emit(
    path.join(gen, "api.ts"),
    await t.componentApiTSWithTypes(
      startPush,
      component,
      component,
      childMap(children),
      {
        staticApi: false,
        useComponentApiImports: true,
      },
    ),
  );
}

// The app: convex.json absent, so `fileType` defaults to "js/dts".
if (existsSync(path.join(appDir, "convex.config.ts"))) {
  const gen = path.join(appDir, "_generated");
  const hasSchema = existsSync(path.join(appDir, "schema.ts"));
  await emit(
    path.join(gen, "dataModel.d.ts"),
    hasSchema ? t.dynamicDataModelDTS() : t.noSchemaDataModelDTS(),
  );
  const server = t.serverCodegen({ useTypeScript: false, envVars: [] });
  await emit(path.join(gen, "server.js"), server.JS!);
  await emit(path.join(gen, "server.d.ts"), server.DTS!);
  await emit(path.join(gen, "api.js"), t.componentApiJs());
  const children = await readAppComponents(
    root,
    path.join(appDir, "convex.config.ts"),
  );
  const app: ComponentDir = { isRoot: true, path: appDir };
  const startPush = {
    analysis: {
      [appDir]: {
        definition: {
          childComponents: children,
          exports: { type: "branch", branch: [] },
          envVars: [],
        },
        functions: {},
      } satisfies Analysis,
    },
  };
  await emit(
    path.join(gen, "api.d.ts"),
    await t.componentApiDTS(startPush, app, app, childMap(children), {
      staticApi: false,
      useComponentApiImports: true,
    }),
  );
}

if (stale.length > 0) {
  if (check) {
    console.error(
      `codegen:check: ${stale.length} stale generated file(s); run \`npm run codegen\`:`,
    );
    for (const f of stale) console.error(`  ${f}`);
    process.exit(1);
  }
  console.log(
    `codegen: wrote ${stale.length} file(s):\n  ${stale.join("\n  ")}`,
  );
} else {
  console.log("codegen: all _generated/ files are up to date");
}
