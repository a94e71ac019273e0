/**
 * The in-memory app of the auditLog bench: our admin operation and its
 * convex-table-history counterpart, seeding and paging functions, each
 * returning what its transaction read and wrote; `makeTest` registers both
 * components.
 */
import { convexTest } from "convex-test";
import {
  anyApi,
  componentsGeneric,
  makeFunctionReference,
  defineSchema,
  defineTable,
  mutationGeneric,
  queryGeneric,
  type GenericSchema,
  type SchemaDefinition,
} from "convex/server";
import { v } from "convex/values";
import { AuditLog } from "../src/auditLog/client.js";
import ourSchema from "../src/auditLog/component/schema.js";
import type { ComponentApi } from "../src/auditLog/component/_generated/component.js";
import { appModules, benchSetup } from "./harness.js";

const sides = benchSetup("auditLog", "convex-table-history/dist/esm/component");

/* eslint-disable @typescript-eslint/no-explicit-any */
const components = componentsGeneric() as unknown as {
  auditLog: ComponentApi<"auditLog">;
  tableHistory: any;
};

const schema = defineSchema({
  users: defineTable({ name: v.string(), role: v.string(), n: v.number() }),
});

const auditLog = new AuditLog(components.auditLog);
const adminMutation = auditLog.adminMutation(async () => ({
  actorId: "bench-admin",
  actorKind: "user",
}));

type Metrics = {
  documentsRead: number;
  documentsWritten: number;
  bytesRead: number;
  bytesWritten: number;
};
async function metrics(ctx: any): Promise<Metrics> {
  const m = await ctx.meta.getTransactionMetrics();
  return {
    documentsRead: m.documentsRead.used,
    documentsWritten: m.documentsWritten.used,
    bytesRead: m.bytesRead.used,
    bytesWritten: m.bytesWritten.used,
  };
}
const diff = (a: Metrics, b: Metrics): Metrics => ({
  documentsRead: b.documentsRead - a.documentsRead,
  documentsWritten: b.documentsWritten - a.documentsWritten,
  bytesRead: b.bytesRead - a.bytesRead,
  bytesWritten: b.bytesWritten - a.bytesWritten,
});

/** Patches every given user; the measured admin operation. */
const editUsers = adminMutation({
  tables: ["users"],
  args: { ids: v.array(v.id("users")), role: v.string() },
  returns: v.object({
    documentsRead: v.number(),
    documentsWritten: v.number(),
    bytesWritten: v.number(),
  }),
  handler: async (ctx, { ids, role }) => {
    for (const id of ids) await ctx.db.patch(id, { role });
    // What the app's own writes cost, so the audit overhead can be isolated.
    const m = await metrics(ctx);
    return {
      documentsRead: m.documentsRead,
      documentsWritten: m.documentsWritten,
      bytesWritten: m.bytesWritten,
    };
  },
});

/** The same changes recorded with convex-table-history (one `update` per document). */
const editUsersTheirs = mutationGeneric({
  args: { ids: v.array(v.id("users")), role: v.string() },
  returns: v.any(),
  handler: async (ctx, { ids, role }) => {
    // Only the history calls are measured, not the app's own patch and get.
    let log: Metrics = {
      documentsRead: 0,
      documentsWritten: 0,
      bytesRead: 0,
      bytesWritten: 0,
    };
    for (const id of ids) {
      await ctx.db.patch(id, { role });
      const after = await ctx.db.get(id);
      const before = await metrics(ctx);
      await ctx.runMutation(components.tableHistory.lib.update, {
        id,
        doc: after,
        serializability: "wallclock",
        attribution: { actor: "bench-admin", reason: "BENCH-1 edit" },
      });
      const d = diff(before, await metrics(ctx));
      log = {
        documentsRead: log.documentsRead + d.documentsRead,
        documentsWritten: log.documentsWritten + d.documentsWritten,
        bytesRead: log.bytesRead + d.bytesRead,
        bytesWritten: log.bytesWritten + d.bytesWritten,
      };
    }
    return log;
  },
});

const seedUsers = mutationGeneric({
  args: { count: v.number() },
  returns: v.array(v.id("users")),
  handler: async (ctx, { count }) => {
    const ids = [];
    for (let i = 0; i < count; i++)
      ids.push(
        await ctx.db.insert("users", { name: `u${i}`, role: "member", n: i }),
      );
    return ids;
  },
});

/** One user whose name takes `bytes`: a large document to patch. */
const seedBigUser = mutationGeneric({
  args: { bytes: v.number() },
  returns: v.id("users"),
  handler: async (ctx, { bytes }) =>
    ctx.db.insert("users", { name: "x".repeat(bytes), role: "member", n: 0 }),
});

/** Measures one full admin call (app writes + audit writes) from a wrapper transaction. */
const measureAdmin = mutationGeneric({
  args: { ids: v.array(v.id("users")), role: v.string() },
  returns: v.any(),
  handler: async (ctx, args) => {
    const start = await metrics(ctx);
    const inner = await ctx.runMutation(
      makeFunctionReference<"mutation">("bench:editUsers"),
      {
        ...args,
        reason: "BENCH-1 edit roles",
      },
    );
    return { total: diff(start, await metrics(ctx)), handlerOnly: inner };
  },
});

/** The append path alone: what log.append reads and writes. */
const measureAppend = mutationGeneric({
  args: { entries: v.number() },
  returns: v.any(),
  handler: async (ctx, { entries }) => {
    const start = await metrics(ctx);
    await ctx.runMutation(components.auditLog.log.append, {
      operation: operationFor(0),
      entries: entryList(0, entries),
    });
    return diff(start, await metrics(ctx));
  },
});

function operationFor(i: number) {
  return {
    actorId: `actor${i % 50}`,
    actorKind: "user",
    roles: [],
    functionName: "bench:seed",
    reason: "BENCH-1 seed data",
    args: { i },
    request: null,
    time: 1_700_000_000_000 + i,
    tables: ["users"],
  };
}
function entryList(op: number, n: number, docId?: (k: number) => string) {
  return Array.from({ length: n }, (_, k) => ({
    table: "users",
    docId: docId ? docId(k) : `doc${op}_${k}`,
    kind: "patch" as const,
    before: { name: `u${k}`, role: "member", n: k },
    after: { name: `u${k}`, role: `r${op}`, n: k },
    changed: ["role"],
  }));
}

/** Bulk seed of our log through the real append path (up to 1000 entries per call). */
const seedOurs = mutationGeneric({
  args: { op: v.number(), entries: v.number(), hotDoc: v.string() },
  returns: v.null(),
  handler: async (ctx, { op, entries, hotDoc }) => {
    await ctx.runMutation(components.auditLog.log.append, {
      operation: operationFor(op),
      // One entry per call touches the document whose history is paged.
      entries: entryList(op, entries, (k) =>
        k === 0 ? hotDoc : `doc${op}_${k}`,
      ),
    });
    return null;
  },
});

/** Bulk seed of convex-table-history's table through a module added to its component. */
const seedTheirs = mutationGeneric({
  args: { op: v.number(), entries: v.number(), hotDoc: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await ctx.runMutation(components.tableHistory.benchSeed.seed, args);
    return null;
  },
});
const theirSeedModule = {
  seed: mutationGeneric({
    args: { op: v.number(), entries: v.number(), hotDoc: v.string() },
    returns: v.null(),
    handler: async (ctx, { op, entries, hotDoc }) => {
      for (let k = 0; k < entries; k++)
        await ctx.db.insert("history", {
          id: k === 0 ? hotDoc : `doc${op}_${k}`,
          ts: 1_700_000_000_000 + op * 1000 + k,
          doc: { name: `u${k}`, role: `r${op}`, n: k },
          isDeleted: false,
          attribution: { actor: `actor${op % 50}` },
        });
      return null;
    },
  }),
};

export const PAGE = 10;

/** The sealing step: what sealing a backlog of operations reads and writes. */
const measureSeal = mutationGeneric({
  args: {},
  returns: v.any(),
  handler: async (ctx) => {
    const start = await metrics(ctx);
    const r = await ctx.runMutation(components.auditLog.chain.seal, {});
    return { ...r, ...diff(start, await metrics(ctx)) };
  },
});

/**
 * A query reading one page of the log by `by` (`read` says how: ours or
 * theirs), returning the page's size and what reading it cost.
 */
function pageQuery(
  read: (
    ctx: any,
    by: string,
    hotDoc: string,
    paginationOpts: { numItems: number; cursor: null },
  ) => Promise<{ page: unknown[] }>,
) {
  return queryGeneric({
    args: { by: v.string(), hotDoc: v.string() },
    returns: v.any(),
    handler: async (ctx, { by, hotDoc }) => {
      const start = await metrics(ctx);
      const paginationOpts = { numItems: PAGE, cursor: null };
      const page = await read(ctx, by, hotDoc, paginationOpts);
      return { items: page.page.length, ...diff(start, await metrics(ctx)) };
    },
  });
}

const pageOurs = pageQuery((ctx, by, hotDoc, paginationOpts) =>
  by === "document"
    ? auditLog.list(ctx, { table: "users", docId: hotDoc, paginationOpts })
    : by === "actor"
      ? auditLog.list(ctx, { actorId: "actor7", paginationOpts })
      : by === "table"
        ? auditLog.list(ctx, { table: "users", paginationOpts })
        : by === "table+actor"
          ? auditLog.list(ctx, {
              table: "users",
              actorId: "actor7",
              paginationOpts,
            })
          : by === "actor+kind"
            ? auditLog.list(ctx, {
                actorId: "actor7",
                kind: "patch",
                paginationOpts,
              })
            : auditLog.list(ctx, { from: 0, paginationOpts }),
);

const pageTheirs = pageQuery((ctx, by, hotDoc, paginationOpts) =>
  by === "document"
    ? ctx.runQuery(components.tableHistory.lib.listDocumentHistory, {
        id: hotDoc,
        maxTs: Number.MAX_SAFE_INTEGER,
        paginationOpts,
      })
    : ctx.runQuery(components.tableHistory.lib.listHistory, {
        maxTs: Number.MAX_SAFE_INTEGER,
        paginationOpts,
      }),
);

/* eslint-enable @typescript-eslint/no-explicit-any */

export async function makeTest() {
  const t = convexTest(
    schema,
    appModules({
      bench: {
        editUsers,
        editUsersTheirs,
        seedUsers,
        measureAdmin,
        measureAppend,
        measureSeal,
        seedOurs,
        seedTheirs,
        pageOurs,
        pageTheirs,
        seedBigUser,
      },
    }),
  );
  t.registerComponent(
    "auditLog",
    ourSchema as SchemaDefinition<GenericSchema, boolean>,
    sides.ourModules(),
  );
  t.registerComponent("tableHistory", await sides.theirSchema(), {
    ...sides.theirModules(),
    "./benchSeed.js": async () => theirSeedModule,
  });
  return { t, api: anyApi.bench };
}
