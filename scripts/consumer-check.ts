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
import { OPS_FUNCTIONS } from "../src/ops/validators.js";
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
  writeFileSync(path.join(app, "convex/tsconfig.json"), tsconfigCodegen());
  // The same app definition as the repository's convex/convex.config.ts, on
  // purpose: the check writes a fresh app that imports the packed package the
  // way a user's app does (both import forms, with and without `.js`), so it
  // cannot share the example app's file.
  writeFileSync(
    path.join(app, "convex/convex.config.ts"),
    `import { defineApp } from "convex/server";
import authz from "convex-opskit/authz/convex.config";
import auditLog from "convex-opskit/auditLog/convex.config.js";
import migrations from "convex-opskit/migrations/convex.config";
import rateLimiter from "convex-opskit/rateLimiter/convex.config";

const app = defineApp();
app.use(authz);
app.use(auditLog);
app.use(migrations);
app.use(rateLimiter);
export default app;
`,
  );
  writeFileSync(
    path.join(app, "convex/schema.ts"),
    `import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
export default defineSchema({ messages: defineTable({ body: v.string() }) });
`,
  );
  // Roles typed and validated by the package: no hand-written role type.
  writeFileSync(
    path.join(app, "convex/roles.ts"),
    `import { v } from "convex/values";
import { z } from "zod";
import { Authz, vMembersPage, type RoleName } from "convex-opskit/authz";
import { zAuthz } from "convex-opskit/authz/zod";
import { components } from "./_generated/api";
import { mutation, query } from "./_generated/server";
import { paginationOptsValidator } from "convex/server";

export const authz = new Authz(components.authz, {
  roles: { viewer: ["notes.read"], editor: ["notes.read", "notes.write"] },
});
export type Role = RoleName<typeof authz>;

export const grantRole = mutation({
  args: { userId: v.string(), role: authz.roleValidator() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.grant(ctx, { userId: args.userId, role: args.role });
    return null;
  },
});

export const members = query({
  args: { paginationOpts: paginationOptsValidator },
  returns: vMembersPage,
  handler: async (ctx, args) => await authz.listMembers(ctx, args),
});

export const rename = zAuthz(authz).mutation(mutation)({
  permission: "notes.write",
  args: { title: z.string().trim().min(1).max(50) },
  handler: async (_ctx, args) => args.title,
});
`,
  );
  writeFileSync(
    path.join(app, "convex/messages.ts"),
    `import { v } from "convex/values";
import { MINUTE, RateLimiter, vRateLimitResult } from "convex-opskit/rateLimiter";
import { components } from "./_generated/api";
import { mutation } from "./_generated/server";

const rateLimiter = new RateLimiter(components.rateLimiter, {
  sendMessage: { kind: "token bucket", rate: 2, period: MINUTE, capacity: 2 },
});

export const send = mutation({
  args: { body: v.string() },
  returns: v.object({ ok: v.boolean(), retryAfter: v.optional(v.number()) }),
  handler: async (ctx, { body }) => {
    const status = await rateLimiter.limit(ctx, "sendMessage", { key: "user-1" });
    if (status.ok) await ctx.db.insert("messages", { body });
    return { ok: status.ok, retryAfter: status.retryAfter };
  },
});

export const attempt = mutation({
  args: {},
  returns: vRateLimitResult,
  handler: async (ctx) => await rateLimiter.check(ctx, "sendMessage", { key: "user-1" }),
});
`,
  );

  // An audited zod admin mutation and component results passed through the
  // app's own functions with the package's return validators (README "zod
  // arguments", "Types and validators for your own functions").
  writeFileSync(
    path.join(app, "convex/admin.ts"),
    `import { paginationOptsValidator } from "convex/server";
import { z } from "zod";
import { AuditLog, vEntriesPage } from "convex-opskit/auditLog";
import { zAdminMutation } from "convex-opskit/auditLog/zod";
import { components } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { query } from "./_generated/server";
import { authz } from "./roles";

export const auditLog = new AuditLog<DataModel>(components.auditLog, {
  reason: { minLength: 5 },
});

export const editMessage = zAdminMutation(auditLog, authz)({
  permission: "notes.write",
  tables: ["messages"],
  args: { id: z.string(), body: z.string().trim().min(1).max(100) },
  returns: z.null(),
  handler: async (ctx, args) => {
    const id = ctx.db.normalizeId("messages", args.id);
    if (id === null) throw new Error("no such message");
    await ctx.db.patch(id, { body: args.body });
    return null;
  },
});

export const history = query({
  args: { paginationOpts: paginationOptsValidator },
  returns: vEntriesPage,
  handler: async (ctx, { paginationOpts }) =>
    await auditLog.list(ctx, { table: "messages", paginationOpts }),
});
`,
  );
  // A migrations module listing internal references, with status and the
  // dry-run report returned through the package's validators.
  writeFileSync(
    path.join(app, "convex/migrations.ts"),
    `import { v } from "convex/values";
import { Migrations, vMigrationStatus, vRunReportOrNull } from "convex-opskit/migrations";
import { components, internal } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { internalMutation, query } from "./_generated/server";

export const migrations = new Migrations<DataModel>(components.migrations, { internalMutation });

export const trim = migrations.define({
  table: "messages",
  migrateOne: (_ctx, m) => (m.body.trim() === m.body ? undefined : { body: m.body.trim() }),
});
export const run = migrations.runner();
const all = [internal.migrations.trim];

export const status = query({
  args: {},
  returns: v.array(vMigrationStatus),
  handler: async (ctx) => {
    const statuses = await migrations.getStatus(ctx, { migrations: all });
    return statuses;
  },
});

export const report = query({
  args: {},
  returns: vRunReportOrNull,
  handler: async (ctx) => {
    const r = await migrations.getReport(ctx, internal.migrations.trim, { dryRun: true });
    return r;
  },
});
`,
  );

  // The admin console: the server functions in one call, and a page mounting it.
  writeFileSync(
    path.join(app, "convex/ops.ts"),
    `import { AuditLog } from "convex-opskit/auditLog";
import { Authz } from "convex-opskit/authz";
import { opsApi, type OpsFunctions } from "convex-opskit/ops";
import { components } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";

const authz = new Authz(components.authz, {
  roles: { admin: ["*"], support: ["audit.read", "audit.revert", "users.manage"] },
  permissions: ["audit.read", "audit.revert", "migrations.run", "rateLimits.manage", "users.manage"],
});
const auditLog = new AuditLog<DataModel>(components.auditLog);
const ops: OpsFunctions = opsApi({ authz, auditLog, revertTables: ["messages"] });
export const { ${OPS_FUNCTIONS.join(", ")} } = ops;
`,
  );
  mkdirSync(path.join(app, "src"), { recursive: true });
  writeFileSync(
    path.join(app, "src/AdminPage.tsx"),
    `import { OpsConsole } from "convex-opskit/react";
import { api } from "../convex/_generated/api";

export function AdminPage() {
  return <OpsConsole api={api.ops} />;
}
`,
  );
  writeFileSync(
    path.join(app, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          module: "ESNext",
          moduleResolution: "Bundler",
          jsx: "react-jsx",
          strict: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: ["src"],
      },
      null,
      2,
    ),
  );

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
  writeFileSync(
    path.join(app, "vitest.config.ts"),
    `import { defineConfig } from "vitest/config";
export default defineConfig({
  test: { environment: "edge-runtime", server: { deps: { inline: ["convex-test", "convex-opskit"] } } },
});
`,
  );
  writeFileSync(
    path.join(app, "convex/messages.test.ts"),
    `/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import opskit, { setLogSink, silenceLogs, withProductionLimits } from "convex-opskit/test";
import { beforeAll, expect, test } from "vitest";
import { api, internal } from "./_generated/api";
import schema from "./schema";

beforeAll(() => silenceLogs());

test("the rate limiter component admits two messages, then rejects", async () => {
  const t = convexTest(schema, import.meta.glob("./**/*.ts"));
  opskit.registerAll(t);
  expect((await t.mutation(api.messages.send, { body: "a" })).ok).toBe(true);
  expect((await t.mutation(api.messages.send, { body: "b" })).ok).toBe(true);
  const third = await t.mutation(api.messages.send, { body: "c" });
  expect(third.ok).toBe(false);
  expect(third.retryAfter).toBeGreaterThan(0);
  const stored = await t.run((ctx) => ctx.db.query("messages").collect());
  expect(stored.map((m) => m.body)).toEqual(["a", "b"]);
  expect((await t.mutation(api.messages.attempt, {})).ok).toBe(false);
});

test("roles come typed and validated from the package; zod builders refuse bad input", async () => {
  const t = convexTest(schema, import.meta.glob("./**/*.ts"));
  opskit.registerAll(t);
  await t.mutation(api.roles.grantRole, { userId: "ann", role: "editor" });
  await expect(
    t.mutation(api.roles.grantRole, { userId: "bob", role: "owner" as never }),
  ).rejects.toThrow();
  const page = await t.query(api.roles.members, { paginationOpts: { numItems: 5, cursor: null } });
  expect(page.page).toEqual([{ userId: "ann", role: "editor" }]);
  // Authz's default user id is the identity's tokenIdentifier.
  const ann = t.withIdentity({ subject: "ann", tokenIdentifier: "ann" });
  expect(await ann.mutation(api.roles.rename, { title: "  Plan  " })).toBe("Plan");
  const refused = await ann.mutation(api.roles.rename, { title: " " }).catch((e) => e.data.code);
  expect(refused).toBe("INVALID_ARGUMENT");
});

test("README step 5: production limits, a zod admin mutation, return validators, captured log lines", async () => {
  const t = withProductionLimits(
    convexTest({ schema, modules: import.meta.glob("./**/*.*s"), transactionLimits: true }),
    { schema },
  );
  opskit.registerAll(t);
  const events: string[] = [];
  const restore = setLogSink((_line, event) => events.push(event.event));
  try {
    await t.mutation(api.roles.grantRole, { userId: "ann", role: "editor" });
    const ann = t.withIdentity({ subject: "ann", tokenIdentifier: "ann" });
    const id = await t.run((ctx) => ctx.db.insert("messages", { body: "hi" }));
    await ann.mutation(api.admin.editMessage, { id, body: " hello ", reason: "fix a typo" });
    expect((await t.run((ctx) => ctx.db.get(id)))?.body).toBe("hello");
    const blank = await ann
      .mutation(api.admin.editMessage, { id, body: "   ", reason: "blank it out" })
      .catch((e) => e.data.code);
    expect(blank).toBe("INVALID_ARGUMENT");
    const history = await t.query(api.admin.history, { paginationOpts: { numItems: 5, cursor: null } });
    expect(history.page).toHaveLength(1);
    await t.run((ctx) => ctx.db.insert("messages", { body: " padded " }));
    await t.mutation(internal.migrations.run, { fn: "migrations:trim", dryRun: true });
    await t.finishAllScheduledFunctions(() => {});
    expect((await t.query(api.migrations.report, {}))?.status.changed).toBe(1);
    expect(await t.query(api.migrations.status, {})).toHaveLength(1);
  } finally {
    restore();
  }
  expect(events).toContain("auditLog.write");
  expect(events.some((e) => e.startsWith("migrations."))).toBe(true);
  await t.checkLimits();
});
`,
  );
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
