/**
 * The test app for authz: a schema with a ruled table (posts), a table
 * without rules (notes) and an opted-out table (logs), and the builders.
 */
import {
  actionGeneric,
  defineSchema,
  defineTable,
  mutationGeneric,
  queryGeneric,
  type ActionBuilder,
  type DataModelFromSchemaDefinition,
  type MutationBuilder,
  type QueryBuilder,
} from "convex/server";
import { v } from "convex/values";
import { Authz, defineRules } from "convex-opskit/authz";
import { components } from "../helpers.js";

export const schema = defineSchema({
  posts: defineTable({
    authorId: v.string(),
    teamId: v.string(),
    title: v.string(),
    published: v.boolean(),
  })
    .index("by_team", ["teamId"])
    .searchIndex("search_title", { searchField: "title" }),
  notes: defineTable({ text: v.string() }),
  logs: defineTable({ text: v.string() }),
});
export type DataModel = DataModelFromSchemaDefinition<typeof schema>;

export const query = queryGeneric as QueryBuilder<DataModel, "public">;
export const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;
export const action = actionGeneric as ActionBuilder<DataModel, "public">;

export const INGEST_KEY = "ingest-key-7f3a9c2e1b";

export const rules = defineRules<DataModel>({
  posts: {
    read: (ctx, post) => post.published || post.authorId === ctx.user.actorId,
    insert: (ctx, post) => post.authorId === ctx.user.actorId,
    modify: (ctx, before, after) =>
      before.authorId === ctx.user.actorId &&
      after.authorId === ctx.user.actorId,
    delete: (ctx, post) => post.authorId === ctx.user.actorId,
  },
  logs: "unrestricted",
});

export const authz = new Authz(components.authz, {
  roles: {
    viewer: ["posts.read"],
    editor: ["posts.read", "posts.write"],
    moderator: ["posts.*"],
    admin: ["*"],
  },
  permissions: ["posts.read", "posts.write", "posts.delete", "members.manage"],
  rules,
  services: {
    ingest: { key: INGEST_KEY, roles: ["editor"] },
    // A service whose secret is not set must never authenticate.
    unset: { key: () => undefined, roles: ["admin"] },
  },
});

export const userQuery = authz.query(query);
export const userMutation = authz.mutation(mutation);
export const userAction = authz.action(action);
export const serviceMutation = authz.serviceMutation(mutation);
