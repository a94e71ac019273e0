import { v } from "convex/values";
import { internalMutation } from "./_generated/server";
import { authz } from "./authz";
import { hashPin } from "./pins";

const TEAMS = [
  { slug: "acme", name: "Acme" },
  { slug: "globex", name: "Globex" },
];

const USERS = [
  { userId: "alice", name: "Alice", role: "admin", team: "acme" },
  { userId: "sam", name: "Sam", role: "support", team: "acme" },
  { userId: "bob", name: "Bob", role: "member", team: "acme" },
  { userId: "dave", name: "Dave", role: "member", team: "acme" },
  { userId: "carol", name: "Carol", role: "member", team: "globex" },
] as const;

// Written before posts had a word count: the backfillWordCount migration fills it in.
const LEGACY_POSTS = [
  {
    teamId: "acme",
    authorId: "bob",
    title: "Welcome",
    body: "Hello team, glad to be here",
  },
  {
    teamId: "acme",
    authorId: "bob",
    title: "Standup",
    body: "Shipped the importer today",
  },
  {
    teamId: "acme",
    authorId: "dave",
    title: "CHEAP PILLS",
    body: "buy now buy now",
  },
  {
    teamId: "acme",
    authorId: "dave",
    title: "WIN BIG",
    body: "click the link",
  },
  {
    teamId: "globex",
    authorId: "carol",
    title: "Roadmap",
    body: "Q3 is about reliability and speed",
  },
  { teamId: "globex", authorId: "carol", title: "Draft", body: "" },
];

/**
 * Seeds the workspace: teams, users with their roles, and legacy posts.
 * Idempotent: a second run finds the data and changes nothing.
 * `npx convex run init:seed`
 */
export const seed = internalMutation({
  args: {},
  returns: v.object({
    created: v.boolean(),
    users: v.number(),
    posts: v.number(),
  }),
  handler: async (ctx) => {
    const existing = await ctx.db.query("teams").first();
    if (existing !== null) {
      const users = (await ctx.db.query("users").take(1000)).length;
      const posts = (await ctx.db.query("posts").take(1000)).length;
      return { created: false, users, posts };
    }
    for (const team of TEAMS) await ctx.db.insert("teams", team);
    for (const u of USERS) {
      await ctx.db.insert("users", {
        userId: u.userId,
        name: u.name,
        email: `${u.userId}@example.com`,
        role: u.role,
        pinHash: await hashPin(u.userId, "1234"),
      });
      await authz.grant(ctx, {
        userId: u.userId,
        role: "member",
        scope: `team:${u.team}`,
      });
      if (u.role !== "member")
        await authz.grant(ctx, { userId: u.userId, role: u.role });
    }
    for (const p of LEGACY_POSTS)
      await ctx.db.insert("posts", { ...p, published: true });
    return { created: true, users: USERS.length, posts: LEGACY_POSTS.length };
  },
});
