/**
 * What a new user does, on a clean machine: pack the package, create a fresh
 * Convex app outside the repo, install the tarball and its peers, install the
 * four components in convex.config.ts, generate _generated/, typecheck
 * (including a deliberate type error that must be reported), and run a
 * convex-test test that calls a component through the package.
 *
 * Exits non-zero on any failed step. `--keep` leaves the temporary app.
 */
import { execFileSync, type ExecFileSyncOptions } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { writeUserApp, writeUserTest } from "./consumer/appFiles.js";
import { checkPackList } from "./pack-list.js";

const repo = process.cwd();
const keep = process.argv.includes("--keep");
const lock = JSON.parse(
  readFileSync(path.join(repo, "package-lock.json"), "utf8"),
) as {
  packages: Record<string, { version: string }>;
};
const version = (name: string) => lock.packages[`node_modules/${name}`].version;

function run(
  cmd: string,
  args: string[],
  cwd: string,
  opts: ExecFileSyncOptions = {},
): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    stdio: "pipe",
    ...opts,
  }) as string;
}

/** Runs `cmd` expecting it to fail: what it printed on stdout, `""` if it passed. */
function failureOf(cmd: string, args: string[], cwd: string): string {
  try {
    run(cmd, args, cwd);
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? "");
  }
  return "";
}

function step(label: string) {
  console.log(`▸ ${label}`);
}

const work = mkdtempSync(path.join(tmpdir(), "opskit-consumer-"));
const app = path.join(work, "app");
let ok = false;
try {
  if (!process.argv.includes("--no-build")) {
    step("build");
    run("npm", ["run", "-s", "build"], repo);
  }
  step("npm pack");
  const packed = JSON.parse(
    run("npm", ["pack", "--json", "--pack-destination", work], repo),
  ) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const tarball = path.join(work, packed[0].filename);
  console.log(`  ${packed[0].filename}: ${packed[0].files.length} files`);

  step(
    "the packed file list: every export target, LICENSE, README; no tests, bench or scripts",
  );
  const problems = checkPackList(
    packed[0].files.map((f) => f.path),
    JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as {
      exports: Record<string, string | Record<string, string>>;
    },
  );
  if (problems.length > 0)
    throw new Error(
      `the package's file list is wrong:\n${problems.join("\n")}`,
    );

  step("create a fresh Convex app and install the tarball with its peers");
  mkdirSync(path.join(app, "convex"), { recursive: true });
  writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify(
      {
        name: "opskit-consumer-app",
        private: true,
        type: "module",
        dependencies: {
          convex: version("convex"),
          "convex-helpers": version("convex-helpers"),
          "convex-opskit": `file:${tarball}`,
          react: version("react"),
          zod: version("zod"),
        },
        devDependencies: {
          "@edge-runtime/vm": version("@edge-runtime/vm"),
          "@types/react": version("@types/react"),
          "convex-test": version("convex-test"),
          typescript: version("typescript"),
          vitest: version("vitest"),
        },
      },
      null,
      2,
    ),
  );
  run(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
    ],
    app,
  );

  step("write convex/ as a user would");
  const templates = path.join(
    app,
    "node_modules/convex/dist/esm/cli/codegen_templates/tsconfig.js",
  );
  const { tsconfigCodegen } = (await import(pathToFileURL(templates).href)) as {
    tsconfigCodegen: () => string;
  };
  writeUserApp(app, tsconfigCodegen);

  step("generate convex/_generated (offline codegen)");
  run(
    path.join(repo, "node_modules/.bin/tsx"),
    [
      path.join(repo, "scripts/codegen.ts"),
      "--root",
      app,
      "--components",
      "none",
    ],
    app,
  );
  const apiDts = readFileSync(
    path.join(app, "convex/_generated/api.d.ts"),
    "utf8",
  );
  for (const cap of ["authz", "auditLog", "migrations", "rateLimiter"])
    if (
      !apiDts.includes(
        `import("convex-opskit/${cap}/_generated/component.js").ComponentApi<"${cap}">`,
      )
    )
      throw new Error(
        `convex/_generated/api.d.ts does not declare components.${cap}`,
      );

  const tsc = path.join(app, "node_modules/.bin/tsc");
  step("typecheck the app against the packed package");
  run(tsc, ["-p", "convex/tsconfig.json"], app);

  step("a deliberate type error (a misspelled limit name) must be reported");
  const typo = path.join(app, "convex/typo.ts");
  writeFileSync(
    typo,
    `import { MINUTE, RateLimiter } from "convex-opskit/rateLimiter";
import { components } from "./_generated/api";
import { mutation } from "./_generated/server";
import { grantRole } from "./roles";
void grantRole;
const rateLimiter = new RateLimiter(components.rateLimiter, {
  sendMessage: { kind: "fixed window", rate: 2, period: MINUTE },
});
export const bad = mutation({
  args: {},
  handler: async (ctx) => { await rateLimiter.limit(ctx, "sendMesage"); },
});
`,
  );
  const reported = failureOf(tsc, ["-p", "convex/tsconfig.json"], app);
  // The misspelled name is on line 11: the error must point there, not elsewhere.
  if (!reported.includes("convex/typo.ts(11,"))
    throw new Error(`tsc did not report the misspelled name:\n${reported}`);
  console.log(
    `  reported: ${reported
      .split("\n")
      .find((l) => l.includes("typo.ts"))
      ?.trim()}`,
  );
  unlinkSync(typo);
  run(tsc, ["-p", "convex/tsconfig.json"], app);

  step("typecheck a page mounting <OpsConsole> against the packed package");
  run(tsc, ["-p", "tsconfig.json"], app);
  const wrongApi = path.join(app, "src/Wrong.tsx");
  writeFileSync(
    wrongApi,
    `import { OpsConsole } from "convex-opskit/react";
import { api } from "../convex/_generated/api";
export const Wrong = () => <OpsConsole api={api.messages} />;
`,
  );
  const consoleError = failureOf(tsc, ["-p", "tsconfig.json"], app);
  if (!consoleError.includes("src/Wrong.tsx(3,"))
    throw new Error(
      `tsc accepted <OpsConsole> with a module that is not the ops API:\n${consoleError}`,
    );
  console.log(
    `  reported: ${consoleError
      .split("\n")
      .find((l) => l.includes("Wrong.tsx"))
      ?.trim()
      .slice(0, 160)}`,
  );
  unlinkSync(wrongApi);

  step(
    "every export resolves: at runtime in Node (ESM) and in types under moduleResolution node16 and bundler",
  );
  const exportsMap = (
    JSON.parse(
      readFileSync(
        path.join(app, "node_modules/convex-opskit/package.json"),
        "utf8",
      ),
    ) as { exports: Record<string, Record<string, string> | string> }
  ).exports;
  const subpaths = Object.keys(exportsMap).filter(
    (k) => k !== "./package.json",
  );
  const spec = (k: string) => `convex-opskit${k.slice(1)}`;
  // Runtime: every export with a JavaScript target loads in plain Node, and
  // none but convex-opskit/test pulls in vitest or convex-test.
  const runtime = subpaths.filter(
    (k) =>
      typeof exportsMap[k] === "object" &&
      "default" in (exportsMap[k] as object) &&
      k !== "./test",
  );
  // A resolve hook refuses vitest and convex-test: an export that imports
  // them would fail to load here.
  const hook = String.raw`export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/\/node_modules\/(vitest|convex-test)\//.test(r.url))
    throw new Error("test-only code loaded: " + r.url + " from " + context.parentURL);
  return r;
}`;
  writeFileSync(
    path.join(app, "resolve-check.mjs"),
    `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));
for (const s of ${JSON.stringify(runtime.map(spec))}) await import(s);
console.log("${runtime.length} exports load in Node without vitest or convex-test");
`,
  );
  console.log(`  ${run(process.execPath, ["resolve-check.mjs"], app).trim()}`);
  // Types: every export (the _generated ComponentApi types included).
  const typeLines = subpaths.map((k, i) =>
    k.endsWith("/_generated/component.js")
      ? `import type { ComponentApi as C${i} } from "${spec(k)}";\nexport type T${i} = C${i}<"x">;`
      : `import * as m${i} from "${spec(k)}";\nexport const v${i} = m${i};`,
  );
  mkdirSync(path.join(app, "exports-check"), { recursive: true });
  writeFileSync(
    path.join(app, "exports-check/all.ts"),
    `${typeLines.join("\n")}\n`,
  );
  for (const [module, moduleResolution] of [
    ["node16", "node16"],
    ["esnext", "bundler"],
  ]) {
    writeFileSync(
      path.join(app, "exports-check/tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          module,
          moduleResolution,
          jsx: "react-jsx",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["all.ts"],
      }),
    );
    run(tsc, ["-p", "exports-check/tsconfig.json"], app);
  }
  console.log(
    `  ${subpaths.length} exports typecheck under node16 and bundler`,
  );

  step("run a convex-test test that calls the component through the package");
  writeUserTest(app);
  const out = run(path.join(app, "node_modules/.bin/vitest"), ["run"], app);
  // The suite silences the components' lines (silenceLogs): none may be printed.
  const printed = out.split("\n").filter((l) => l.includes('{"event":'));
  if (printed.length > 0)
    throw new Error(
      `silenceLogs() left ${printed.length} log line(s) in the test output, e.g. ${printed[0]}`,
    );
  console.log(
    out
      .split("\n")
      .filter((l) => /Tests|passed|failed/.test(l))
      .map((l) => `  ${l.trim()}`)
      .join("\n"),
  );
  ok = true;
  console.log("consumer check passed");
} catch (e) {
  const err = e as { stdout?: string; stderr?: string; message?: string };
  console.error(`consumer check FAILED: ${err.message ?? e}`);
  if (err.stdout) console.error(err.stdout);
  if (err.stderr) console.error(err.stderr);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
