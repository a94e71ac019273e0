/**
 * convex-opskit/authz/zod: the authz builders with zod arguments behave like
 * the `v` builders (identity, permission, scope, row rules, service keys,
 * errors) and refuse arguments failing a zod check with INVALID_ARGUMENT,
 * writing nothing.
 */
import {
  anyApi,
  type ApiFromModules,
  type FunctionArgs,
  type FunctionReturnType,
} from "convex/server";
import { ConvexError, type Value } from "convex/values";
import { zAuthz } from "convex-opskit/authz/zod";
import fc from "fast-check";
import { describe, expect, expectTypeOf, test } from "vitest";
import { z } from "zod";
import { errorOf, opskitTest } from "../helpers.js";
import { action, authz, INGEST_KEY, mutation, query, schema } from "./app.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./zod.test.js";

const zodAuthz = zAuthz(authz);
const zUserQuery = zodAuthz.query(query);
const zUserMutation = zodAuthz.mutation(mutation);
const zUserAction = zodAuthz.action(action);
const zServiceMutation = zodAuthz.serviceMutation(mutation);

const MAX_TITLE = 80;

export const createPost = zUserMutation({
  permission: "posts.write",
  // The scope sees the parsed args: " Team-1 " arrives as "team-1".
  scope: (args) => `team:${args.teamId}`,
  args: {
    teamId: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9-]+$/),
    title: z.string().min(1).max(MAX_TITLE),
  },
  returns: z.string(),
  handler: async (ctx, args) =>
    await ctx.db.insert("posts", {
      teamId: args.teamId,
      title: args.title,
      authorId: ctx.user.actorId,
      published: false,
    }),
});

export const postAs = zUserMutation({
  args: { authorId: z.string() },
  handler: async (ctx, args) => {
    // Row rules still apply to ctx.db: only your own posts.
    await ctx.db.insert("posts", {
      teamId: "t",
      title: "x",
      authorId: args.authorId,
      published: true,
    });
    return null;
  },
});

export const countPosts = zUserQuery({
  permission: "posts.read",
  scope: "team:team-1",
  args: {},
  returns: z.number().int(),
  handler: async (ctx) => (await ctx.db.query("posts").collect()).length,
});

export const whoAmI = zUserAction({
  args: { shout: z.boolean().default(false) },
  handler: async (ctx, args) =>
    args.shout ? ctx.user.actorId.toUpperCase() : ctx.user.actorId,
});

export const ingest = zServiceMutation({
  permission: "posts.write",
  args: { title: z.string().max(MAX_TITLE) },
  handler: async (ctx, args) => {
    await ctx.db.insert("posts", {
      teamId: "ingest",
      title: args.title,
      authorId: ctx.user.actorId,
      published: true,
    });
    return ctx.user.actorKind;
  },
});

export const tagPosts = zUserMutation({
  args: { tags: z.array(z.string().max(3)) },
  handler: async () => null,
});

export const badScope = zUserMutation({
  permission: "posts.write",
  scope: () => undefined as unknown as string,
  args: { title: z.string() },
  handler: async (ctx, args) => {
    await ctx.db.insert("notes", { text: args.title });
    return null;
  },
});

export const grant = mutation({
  args: {},
  handler: async (ctx) => {
    await authz.grant(ctx, {
      userId: "ann",
      role: "editor",
      scope: "team:team-1",
    });
  },
});

const api = anyApi["zod.test"];
const setup = () => opskitTest({ "./zod.test.ts": async () => self }, schema);

async function code(p: Promise<unknown>) {
  try {
    await p;
    return "OK";
  } catch (e) {
    return e instanceof ConvexError
      ? (e.data as { code: string }).code
      : String(e);
  }
}
const posts = (t: ReturnType<typeof setup>) =>
  t.run(async (ctx) => await ctx.db.query("posts").collect());

type Api = ApiFromModules<{
  m: {
    createPost: typeof createPost;
    whoAmI: typeof whoAmI;
    ingest: typeof ingest;
    countPosts: typeof countPosts;
  };
}>["m"];

// Compiled by tsc, never called: the assertions are the type errors.
export function typeChecks() {
  // Callers send zod's input; the handler gets its output.
  expectTypeOf<FunctionArgs<Api["createPost"]>>().toEqualTypeOf<{
    teamId: string;
    title: string;
  }>();
  expectTypeOf<FunctionArgs<Api["whoAmI"]>>().toEqualTypeOf<{
    shout?: boolean | undefined;
  }>();
  expectTypeOf<FunctionArgs<Api["ingest"]>>().toEqualTypeOf<{
    title: string;
    serviceKey: string;
  }>();
  expectTypeOf<FunctionReturnType<Api["countPosts"]>>().toEqualTypeOf<number>();
  zUserMutation({
    // @ts-expect-error "post.write" is a typo
    permission: "post.write",
    args: {},
    handler: async () => null,
  });
  zUserMutation({
    permission: "posts.write",
    // @ts-expect-error scope functions only see declared args
    scope: (args) => `org:${args.orgId}`,
    args: { teamId: z.string() },
    handler: async () => null,
  });
  zUserMutation({
    args: { n: z.string().transform((s) => s.length) },
    handler: async (ctx, args) => {
      expectTypeOf(args.n).toEqualTypeOf<number>();
      // @ts-expect-error "posts.remove" is not a permission
      await ctx.authz.require("posts.remove");
      // @ts-expect-error handlers only see declared args
      return args.other;
    },
  });
  zUserQuery({
    args: {},
    // @ts-expect-error a query's ctx.db cannot write
    handler: async (ctx) => await ctx.db.insert("notes", { text: "x" }),
  });
  zUserMutation({
    args: {},
    returns: z.number(),
    // @ts-expect-error the handler must return what `returns` accepts
    handler: async () => "text",
  });
}

describe("zod authz builders", () => {
  test("identity, permission and a scope computed from the parsed args", async () => {
    const t = setup();
    await t.mutation(api.grant, {});
    const ann = t.withIdentity({ subject: "ann", tokenIdentifier: "ann" });
    const id = await ann.mutation(api.createPost, {
      teamId: "  Team-1 ",
      title: "hello",
    });
    expect(typeof id).toBe("string");
    expect((await posts(t)).map((p) => p.teamId)).toEqual(["team-1"]);
    expect(
      await code(
        ann.mutation(api.createPost, { teamId: "team-2", title: "x" }),
      ),
    ).toBe("FORBIDDEN");
    expect(
      await code(t.mutation(api.createPost, { teamId: "team-1", title: "x" })),
    ).toBe("UNAUTHENTICATED");
    expect(await posts(t)).toHaveLength(1);
    expect(await ann.query(api.countPosts, {})).toBe(1);
    expect(await ann.action(api.whoAmI, {})).toBe("ann");
    expect(await ann.action(api.whoAmI, { shout: true })).toBe("ANN");
  });

  test("row rules apply to ctx.db as in the v builders", async () => {
    const t = setup();
    const bob = t.withIdentity({ subject: "bob", tokenIdentifier: "bob" });
    expect(await code(bob.mutation(api.postAs, { authorId: "ann" }))).toBe(
      "FORBIDDEN",
    );
    await bob.mutation(api.postAs, { authorId: "bob" });
    expect((await posts(t)).map((p) => p.authorId)).toEqual(["bob"]);
  });

  test("service callers present a key; a wrong key is UNAUTHENTICATED", async () => {
    const t = setup();
    expect(
      await t.mutation(api.ingest, { serviceKey: INGEST_KEY, title: "feed" }),
    ).toBe("service");
    expect(
      await code(t.mutation(api.ingest, { serviceKey: "guess", title: "x" })),
    ).toBe("UNAUTHENTICATED");
    expect((await posts(t)).map((p) => p.title)).toEqual(["feed"]);
  });

  test("a failed zod check is INVALID_ARGUMENT naming the argument, expectation and what arrived", async () => {
    const t = setup();
    await t.mutation(api.grant, {});
    const ann = t.withIdentity({ subject: "ann", tokenIdentifier: "ann" });
    let error: unknown;
    try {
      await ann.mutation(api.createPost, {
        teamId: "team-1",
        title: "x".repeat(MAX_TITLE + 1),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConvexError);
    const data = (error as ConvexError<Value>).data as Record<string, unknown>;
    expect(data.code).toBe("INVALID_ARGUMENT");
    expect(data.message).toMatch(
      /^Invalid arguments to this mutation: title: .*80.*; got a string of 81 characters$/,
    );
    expect(data.issues).toEqual([
      expect.objectContaining({ path: "title", code: "too_big" }),
    ]);
    expect(await posts(t)).toEqual([]);
  });

  test("thousands of bad items give a bounded error: 20 issues listed, the count given", async () => {
    const t = setup();
    const ann = t.withIdentity({ subject: "ann", tokenIdentifier: "ann" });
    let error: unknown;
    try {
      await ann.mutation(api.tagPosts, { tags: Array(5000).fill("toolong") });
    } catch (e) {
      error = e;
    }
    const data = (error as ConvexError<Value>).data as Record<string, unknown>;
    expect(data.code).toBe("INVALID_ARGUMENT");
    expect(data.issueCount).toBe(5000);
    expect(data.issues).toHaveLength(20);
    expect(data.message).toMatch(
      /tags\.0: .*; got a string of 7 characters;.*\(and 4997 more\)$/,
    );
    expect(JSON.stringify(data).length).toBeLessThan(10_000);
  });

  test("hostile callers: anonymous bad input is UNAUTHENTICATED first; a scope resolving to nothing is INVALID_ARGUMENT and writes nothing", async () => {
    const t = setup();
    expect(
      await code(t.mutation(api.createPost, { teamId: "team 1!", title: "" })),
    ).toBe("UNAUTHENTICATED");
    const ann = t.withIdentity({ subject: "ann", tokenIdentifier: "ann" });
    expect(await code(ann.mutation(api.badScope, { title: "x" }))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(
      await t.run(async (ctx) => await ctx.db.query("notes").collect()),
    ).toEqual([]);
  });

  test("definition mistakes fail at definition time, like the v builders", async () => {
    const malformed = await errorOf(() =>
      zUserMutation({
        permission: "Posts Write" as "posts.write",
        args: {},
        handler: async () => null,
      }),
    );
    expect(malformed.code).toBe("INVALID_ARGUMENT");
    expect(malformed.message).toBe('authz: malformed permission "Posts Write"');
    const scopeOnly = await errorOf(() =>
      zUserMutation({
        scope: "team:1",
        args: {},
        handler: async () => null,
      }),
    );
    expect(scopeOnly.code).toBe("INVALID_ARGUMENT");
    expect(scopeOnly.message).toBe(
      "authz: `scope` needs a `permission` to check",
    );
  });

  test("admitted exactly when zod accepts; a refusal writes nothing (generated)", async () => {
    const titles = z.string().min(1).max(MAX_TITLE);
    const teams = z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9-]+$/);
    const t = setup();
    await t.mutation(api.grant, {});
    const ann = t.withIdentity({ subject: "ann", tokenIdentifier: "ann" });
    let written = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 100 }),
          fc.constantFrom("", "x".repeat(MAX_TITLE), "x".repeat(MAX_TITLE + 1)),
        ),
        fc.constantFrom("team-1", " TEAM-1", "team 1", "", "team-1!"),
        async (title, teamId) => {
          const valid =
            titles.safeParse(title).success && teams.safeParse(teamId).success;
          const result = await code(
            ann.mutation(api.createPost, { teamId, title }),
          );
          expect(result).toBe(valid ? "OK" : "INVALID_ARGUMENT");
          if (valid) written++;
          expect(await posts(t)).toHaveLength(written);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });
});
