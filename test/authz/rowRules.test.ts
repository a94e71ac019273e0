/**
 * Row rules matrix: every database path × (allowed, denied, table without
 * rules, table opted out) must behave, so no path fails open.
 */
import { anyApi } from "convex/server";
import { ConvexError, v, type Value } from "convex/values";
import { describe, expect, test } from "vitest";
import { opskitTest, codeOf, captureLogs } from "../helpers.js";
import { Authz, defineRules } from "convex-opskit/authz";
import { components } from "../helpers.js";
import {
  mutation,
  schema,
  userMutation,
  userQuery,
  type DataModel,
} from "./app.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./rowRules.test.js";

const api = anyApi["rowRules.test"];

type Table = "posts" | "notes" | "logs";
const READ_PATHS = [
  "get",
  "getWithTable",
  "tableGet",
  "collect",
  "withIndex",
  "filter",
  "order",
  "first",
  "unique",
  "take",
  "paginate",
  "iterate",
  "fullTableScan",
  "tableQuery",
] as const;
const WRITE_PATHS = [
  "insert",
  "tableInsert",
  "patch",
  "patchWithTable",
  "tablePatch",
  "replace",
  "replaceWithTable",
  "tableReplace",
  "delete",
  "deleteWithTable",
  "tableDelete",
] as const;

/* eslint-disable @typescript-eslint/no-explicit-any -- one function drives every table through the same paths */
export const read = userQuery({
  args: { path: v.string(), table: v.string(), id: v.string() },
  returns: v.array(v.string()),
  handler: async (ctx, args) => {
    const db = ctx.db as any;
    const table = args.table as Table;
    const id = args.id;
    const byId = (q: any) => q.eq(q.field("_id"), id);
    const ids = (docs: Array<{ _id: string } | null>) =>
      docs.filter((d) => d !== null).map((d) => d!._id);
    switch (args.path) {
      case "get":
        return ids([await db.get(id)]);
      case "getWithTable":
        return ids([await db.get(table, id)]);
      case "tableGet":
        return ids([await db.table(table).get(id)]);
      case "collect":
        return ids(await db.query(table).collect());
      case "withIndex":
        return ids(
          await db
            .query(table)
            .withIndex("by_creation_time", (q: any) =>
              q.gte("_creationTime", 0),
            )
            .collect(),
        );
      case "filter":
        return ids(await db.query(table).filter(byId).collect());
      case "order":
        return ids(await db.query(table).order("desc").collect());
      case "first":
        return ids([await db.query(table).filter(byId).first()]);
      case "unique":
        return ids([await db.query(table).filter(byId).unique()]);
      case "take":
        return ids(await db.query(table).take(10));
      case "paginate":
        return ids(
          (await db.query(table).paginate({ numItems: 10, cursor: null })).page,
        );
      case "iterate": {
        const out = [];
        for await (const doc of db.query(table)) out.push(doc);
        return ids(out);
      }
      case "fullTableScan":
        return ids(await db.query(table).fullTableScan().collect());
      case "tableQuery":
        return ids(await db.table(table).query().collect());
    }
    throw new Error(`unknown path ${args.path}`);
  },
});

export const write = userMutation({
  args: {
    path: v.string(),
    table: v.string(),
    id: v.string(),
    value: v.any(),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const db = ctx.db as any;
    const { table, id, value } = args;
    switch (args.path) {
      case "insert":
        await db.insert(table, value);
        return null;
      case "tableInsert":
        await db.table(table).insert(value);
        return null;
      case "patch":
        await db.patch(id, value);
        return null;
      case "patchWithTable":
        await db.patch(table, id, value);
        return null;
      case "tablePatch":
        await db.table(table).patch(id, value);
        return null;
      case "replace":
        await db.replace(id, value);
        return null;
      case "replaceWithTable":
        await db.replace(table, id, value);
        return null;
      case "tableReplace":
        await db.table(table).replace(id, value);
        return null;
      case "delete":
        await db.delete(id);
        return null;
      case "deleteWithTable":
        await db.delete(table, id);
        return null;
      case "tableDelete":
        await db.table(table).delete(id);
        return null;
    }
    throw new Error(`unknown path ${args.path}`);
  },
});
/* eslint-enable @typescript-eslint/no-explicit-any */

export const dbSurface = userMutation({
  args: {},
  returns: v.array(v.string()),
  handler: async (ctx) => Object.keys(ctx.db).sort(),
});

export const searchPosts = userQuery({
  args: { text: v.string() },
  returns: v.array(v.string()),
  handler: async (ctx, args) =>
    (
      await ctx.db
        .query("posts")
        .withSearchIndex("search_title", (q) => q.search("title", args.text))
        .collect()
    ).map((p) => p.title),
});

export const crossTable = userMutation({
  args: { postId: v.id("posts") },
  returns: v.null(),
  handler: async (ctx, args) => {
    // Naming an opted-out table with a post's id must not bypass posts' rules.
    await ctx.db.patch("logs", args.postId as never, { text: "pwned" });
    return null;
  },
});

export const uniqueOfTwo = userQuery({
  args: {},
  returns: v.union(v.string(), v.null()),
  handler: async (ctx) =>
    (
      await ctx.db
        .query("posts")
        .withIndex("by_team", (q) => q.eq("teamId", "t"))
        .unique()
    )?.title ?? null,
});

export const uniqueAfterInsert = userMutation({
  args: {},
  returns: v.union(v.string(), v.null()),
  handler: async (ctx) => {
    await ctx.db.insert("logs", { text: "before unique" });
    const post = await ctx.db
      .query("posts")
      .withIndex("by_team", (q) => q.eq("teamId", "t"))
      .unique();
    return post?.title ?? null;
  },
});

// Rules get a read-only database, even inside mutations.
const probe = new Authz(components.authz, {
  roles: { member: ["notes.write"] },
  rules: defineRules<DataModel>({
    notes: {
      read: () => true,
      insert: async (ctx) => {
        const db = ctx.db as unknown as Record<string, unknown>;
        return (
          typeof db.insert !== "function" && typeof db.patch !== "function"
        );
      },
    },
  }),
});
export const insertNoteViaProbe = probe.mutation(mutation)({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await ctx.db.insert("notes", { text: "probe" });
    return null;
  },
});

// A plain mutation: the raw database, for seeding and inspection.
export const seed = mutation({
  args: {},
  returns: v.any(),
  handler: async (ctx) => ({
    own: await ctx.db.insert("posts", {
      authorId: "u1",
      teamId: "t",
      title: "own draft",
      published: false,
    }),
    other: await ctx.db.insert("posts", {
      authorId: "u2",
      teamId: "t",
      title: "other draft",
      published: false,
    }),
    public: await ctx.db.insert("posts", {
      authorId: "u2",
      teamId: "t",
      title: "other published",
      published: true,
    }),
    note: await ctx.db.insert("notes", { text: "secret" }),
    log: await ctx.db.insert("logs", { text: "log line" }),
  }),
});

const lines = captureLogs();

async function setup() {
  const t = opskitTest({ "./rowRules.test.ts": async () => self }, schema);
  const ids = (await t.mutation(api.seed, {})) as Record<string, string>;
  const u1 = t.withIdentity({ subject: "u1", tokenIdentifier: "u1" });
  const snapshot = () =>
    t.run(async (ctx) => ({
      posts: await ctx.db.query("posts").collect(),
      notes: await ctx.db.query("notes").collect(),
      logs: await ctx.db.query("logs").collect(),
    }));
  return { t, ids, u1, snapshot };
}

describe("reads", () => {
  test.each(READ_PATHS)(
    "%s: own row visible, other's draft hidden",
    async (path) => {
      const { ids, u1 } = await setup();
      const own = await u1.query(api.read, {
        path,
        table: "posts",
        id: ids.own,
      });
      expect(own).toContain(ids.own);
      const other = await u1.query(api.read, {
        path,
        table: "posts",
        id: ids.other,
      });
      expect(other).not.toContain(ids.other);
      if (
        ![
          "get",
          "getWithTable",
          "tableGet",
          "first",
          "unique",
          "filter",
        ].includes(path)
      )
        // Whole-table reads keep readable rows and drop the rest.
        expect([...other].sort()).toEqual([ids.own, ids.public].sort());
      expect(
        lines.some((l) => l.event === "authz.deny" && l.table === "posts"),
      ).toBe(true);
    },
  );

  test.each(READ_PATHS)(
    "%s: a table without rules is FORBIDDEN",
    async (path) => {
      const { ids, u1 } = await setup();
      expect(
        await codeOf(
          u1.query(api.read, { path, table: "notes", id: ids.note }),
        ),
      ).toBe("FORBIDDEN");
      expect(lines).toContainEqual(
        expect.objectContaining({
          event: "authz.deny",
          reason: "row_table_not_covered",
        }),
      );
    },
  );

  test.each(READ_PATHS)(
    "%s: an opted-out table reads normally",
    async (path) => {
      const { ids, u1 } = await setup();
      expect(
        await u1.query(api.read, { path, table: "logs", id: ids.log }),
      ).toEqual([ids.log]);
    },
  );

  test("search index reads are filtered too", async () => {
    const { u1 } = await setup();
    expect((await u1.query(api.searchPosts, { text: "draft" })).sort()).toEqual(
      ["own draft"],
    );
  });

  test("unique() throws only when two readable rows match", async () => {
    const { t, ids, u1 } = await setup();
    // own + public are readable by u1: two matches.
    const error = await u1.query(api.uniqueOfTwo, {}).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConvexError);
    const data = (error as ConvexError<Record<string, Value>>).data;
    expect(data).toEqual({
      code: "CONFLICT",
      message: expect.stringMatching(
        /^unique\(\) query returned more than one result from table "posts"/,
      ),
      table: "posts",
      ids: [ids.own, ids.public],
    });
    // The other user's draft is neither counted nor named.
    expect(JSON.stringify(data)).not.toContain(ids.other);
    // u3 can read only the published post.
    expect(
      await t
        .withIdentity({ subject: "u3", tokenIdentifier: "u3" })
        .query(api.uniqueOfTwo, {}),
    ).toBe("other published");
  });

  test("unique() over several rows in a mutation is coded and writes nothing", async () => {
    const { u1, snapshot } = await setup();
    const before = await snapshot();
    expect(await codeOf(u1.mutation(api.uniqueAfterInsert, {}))).toBe(
      "CONFLICT",
    );
    expect(await snapshot()).toEqual(before);
  });
});

describe("writes", () => {
  const ownPost = {
    authorId: "u1",
    teamId: "t",
    title: "new",
    published: false,
  };
  const othersPost = {
    authorId: "u2",
    teamId: "t",
    title: "forged",
    published: false,
  };

  test.each(["insert", "tableInsert"])(
    "%s: allowed by the insert rule",
    async (path) => {
      const { u1, snapshot } = await setup();
      await u1.mutation(api.write, {
        path,
        table: "posts",
        id: "",
        value: ownPost,
      });
      expect((await snapshot()).posts.map((p) => p.title)).toContain("new");
    },
  );

  test.each(["insert", "tableInsert"])(
    "%s: denied by the insert rule, nothing written",
    async (path) => {
      const { u1, snapshot } = await setup();
      const before = await snapshot();
      expect(
        await codeOf(
          u1.mutation(api.write, {
            path,
            table: "posts",
            id: "",
            value: othersPost,
          }),
        ),
      ).toBe("FORBIDDEN");
      expect(await snapshot()).toEqual(before);
    },
  );

  const updates = WRITE_PATHS.filter((p) => !p.includes("nsert"));
  const valueFor = (path: string, patch: Record<string, unknown>) =>
    path.toLowerCase().includes("replace")
      ? {
          authorId: "u1",
          teamId: "t",
          title: "own draft",
          published: false,
          ...patch,
        }
      : patch;

  test.each(updates)("%s: allowed on an own row", async (path) => {
    const { ids, u1, snapshot } = await setup();
    await u1.mutation(api.write, {
      path,
      table: "posts",
      id: ids.own,
      value: valueFor(path, { title: "edited" }),
    });
    const own = (await snapshot()).posts.find((p) => p._id === ids.own);
    if (path.toLowerCase().includes("delete")) expect(own).toBeUndefined();
    else expect(own?.title).toBe("edited");
  });

  test.each(updates)(
    "%s: denied on another user's rows (hidden or visible), nothing written",
    async (path) => {
      const { ids, u1, snapshot } = await setup();
      const before = await snapshot();
      for (const id of [ids.other, ids.public])
        expect(
          await codeOf(
            u1.mutation(api.write, {
              path,
              table: "posts",
              id,
              value: valueFor(path, { authorId: "u1", title: "taken" }),
            }),
          ),
        ).toBe("FORBIDDEN");
      expect(await snapshot()).toEqual(before);
    },
  );

  test.each(updates.filter((p) => !p.toLowerCase().includes("delete")))(
    "%s: the modify rule sees the new document, so an owner cannot hand a row away",
    async (path) => {
      const { ids, u1, snapshot } = await setup();
      const before = await snapshot();
      expect(
        await codeOf(
          u1.mutation(api.write, {
            path,
            table: "posts",
            id: ids.own,
            value: valueFor(path, { authorId: "u2" }),
          }),
        ),
      ).toBe("FORBIDDEN");
      expect(await snapshot()).toEqual(before);
    },
  );

  test.each(WRITE_PATHS)(
    "%s: a table without rules is FORBIDDEN, nothing written",
    async (path) => {
      const { ids, u1, snapshot } = await setup();
      const before = await snapshot();
      expect(
        await codeOf(
          u1.mutation(api.write, {
            path,
            table: "notes",
            id: ids.note,
            value: { text: "x" },
          }),
        ),
      ).toBe("FORBIDDEN");
      expect(await snapshot()).toEqual(before);
    },
  );

  test.each(WRITE_PATHS)(
    "%s: an opted-out table writes normally",
    async (path) => {
      const { ids, u1, snapshot } = await setup();
      await u1.mutation(api.write, {
        path,
        table: "logs",
        id: ids.log,
        value: { text: "changed" },
      });
      const logs = (await snapshot()).logs;
      if (path.toLowerCase().includes("delete")) expect(logs).toEqual([]);
      else if (path.toLowerCase().includes("insert"))
        expect(logs).toHaveLength(2);
      else expect(logs[0].text).toBe("changed");
    },
  );

  test("an opted-out table name cannot carry another table's id", async () => {
    const { ids, u1, snapshot } = await setup();
    const before = await snapshot();
    expect(
      await codeOf(u1.mutation(api.crossTable, { postId: ids.other })),
    ).toBe("FORBIDDEN");
    expect(await snapshot()).toEqual(before);
  });

  test("rules see a read-only database", async () => {
    const { u1, snapshot } = await setup();
    await u1.mutation(api.insertNoteViaProbe, {});
    expect((await snapshot()).notes.map((n) => n.text)).toContain("probe");
  });

  test("the guarded db exposes only guarded methods", async () => {
    const { u1 } = await setup();
    expect(await u1.mutation(api.dbSurface, {})).toEqual([
      "delete",
      "get",
      "insert",
      "normalizeId",
      "patch",
      "query",
      "replace",
      "system",
      "table",
      "vars",
    ]);
  });

  test("a denied write is logged with table and operation", async () => {
    const { ids, u1 } = await setup();
    await codeOf(
      u1.mutation(api.write, {
        path: "delete",
        table: "posts",
        id: ids.public,
        value: null,
      }),
    );
    expect(lines).toContainEqual({
      event: "authz.deny",
      functionName: "rowRules.test:write",
      actorId: "u1",
      actorKind: "user",
      table: "posts",
      operation: "delete",
      reason: "row_rule_denied",
    });
  });
});
