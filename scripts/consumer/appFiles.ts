/**
 * The files of the fresh app the consumer check creates, as a user would
 * write them: `convex/` (the four components installed, an app using each
 * client, the ops functions), a page mounting the console, and a convex-test
 * test calling the components through the package.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { OPS_FUNCTIONS } from "../../src/ops/validators.js";

/** Writes `convex/`, `src/AdminPage.tsx` and `tsconfig.json` of the app in `app`. */
export function writeUserApp(app: string, tsconfigCodegen: () => string): void {
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
}

/** Writes the app's `vitest.config.ts` and `convex/messages.test.ts`. */
export function writeUserTest(app: string): void {
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
}
