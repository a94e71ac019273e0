/**
 * Role, permission and table names are checked by the compiler: every
 * `@ts-expect-error` below fails `tsc` if the line stops being an error.
 * The runtime tests cover what a cast or untyped input can still smuggle in.
 */
import type { GenericMutationCtx } from "convex/server";
import { v } from "convex/values";
import { describe, expect, test } from "vitest";
import { Authz, defineRules } from "convex-opskit/authz";
import { components, errorOf } from "../helpers.js";
import { authz, type DataModel, mutation, userMutation } from "./app.js";

// Compiled by tsc, never called: the assertions are the type errors.
export function typeChecks(ctx: GenericMutationCtx<DataModel>) {
  void authz.grant(ctx, { userId: "u", role: "editor" });
  // @ts-expect-error "editr" is not a configured role
  void authz.grant(ctx, { userId: "u", role: "editr" });
  // @ts-expect-error "posts.wrte" is not a configured permission
  void authz.can(ctx, { userId: "u", permission: "posts.wrte" });
  // @ts-expect-error wildcards are for roles, not for checks
  void authz.authorize(ctx, { permission: "posts.*" });
  void authz.authorize(ctx, { permission: "members.manage" });

  userMutation({
    // @ts-expect-error "post.write" is a typo
    permission: "post.write",
    args: {},
    handler: async () => null,
  });
  userMutation({
    permission: "posts.write",
    scope: (args) => `team:${args.teamId}`,
    args: { teamId: v.string() },
    handler: async (ctx, args) => {
      await ctx.authz.require("posts.delete", { scope: `team:${args.teamId}` });
      // @ts-expect-error "posts.remove" is not a permission
      await ctx.authz.require("posts.remove");
      // @ts-expect-error handlers only see declared args
      return args.orgId;
    },
  });

  userMutation({
    permission: "posts.write",
    // @ts-expect-error scope functions only see declared args
    scope: (args) => `org:${args.orgId}`,
    args: { teamId: v.string() },
    handler: async () => null,
  });

  new Authz(components.authz, {
    // @ts-expect-error "comments.write" is not in the permission list
    roles: { a: ["posts.read", "comments.write"] },
    permissions: ["posts.read"],
  });
  new Authz(components.authz, {
    roles: { a: ["posts.*"], b: ["*"] },
    permissions: ["posts.read"],
  });
  new Authz(components.authz, {
    roles: { a: ["posts.read"] },
    // @ts-expect-error services may only hold configured roles
    services: { bot: { key: "k", roles: ["root"] } },
  });

  // Without rules, builders still carry the app's data model.
  const plain = new Authz(components.authz, {
    roles: { member: ["notes.write"] },
  });
  plain.mutation(mutation)({
    permission: "notes.write",
    args: { text: v.string() },
    handler: async (ctx, args) => {
      await ctx.db.insert("notes", { text: args.text });
      // @ts-expect-error notes have no "body" field
      await ctx.db.insert("notes", { body: args.text });
      const who: "user" | "service" = ctx.user.actorKind;
      return who;
    },
  });

  defineRules<DataModel>({
    // @ts-expect-error "comments" is not a table of this app
    comments: "unrestricted",
  });
  defineRules<DataModel>({
    posts: {
      // @ts-expect-error posts have no "ownerId" field
      read: (_ctx, post) => post.ownerId === "u",
    },
  });
}

/** A definition-time mistake: coded `INVALID_ARGUMENT` whose message matches `re`. */
async function expectDefinitionError(define: () => unknown, re: RegExp) {
  const data = await errorOf(define);
  expect(data.code).toBe("INVALID_ARGUMENT");
  expect(data.message).toMatch(re);
}

describe("runtime checks behind the types", () => {
  test("malformed permission patterns in roles are refused at startup", async () => {
    await expectDefinitionError(
      () => new Authz(components.authz, { roles: { a: ["posts.**"] } }),
      /malformed permission/,
    );
    await expectDefinitionError(
      () => new Authz(components.authz, { roles: { a: ["posts read"] } }),
      /malformed permission/,
    );
  });

  test("a service holding an unknown role is refused at startup", async () => {
    await expectDefinitionError(
      () =>
        new Authz(components.authz, {
          roles: { a: ["x.y"] },
          services: { bot: { key: "k", roles: ["b" as "a"] } },
        }),
      /^authz: service "bot" uses unknown role "b"$/,
    );
  });

  test("a builder with a malformed permission or a scope without permission is refused", async () => {
    await expectDefinitionError(
      () =>
        userMutation({
          permission: "posts.write " as "posts.write",
          args: {},
          handler: async () => null,
        }),
      /malformed permission/,
    );
    await expectDefinitionError(
      () =>
        userMutation({ scope: "team:1", args: {}, handler: async () => null }),
      /needs a `permission`/,
    );
  });

  test("defineRules refuses anything but rule objects or 'unrestricted'", async () => {
    await expectDefinitionError(
      () => defineRules<DataModel>({ posts: "allow-all" as "unrestricted" }),
      /^authz: rules for table "posts" must be an object of rules or "unrestricted"$/,
    );
  });

  test("the v builders refuse a scope that is neither a string nor a function at definition, like the zod ones", async () => {
    await expectDefinitionError(
      () =>
        userMutation({
          permission: "posts.write",
          scope: 42 as unknown as string,
          args: {},
          handler: async () => null,
        }),
      /^authz: `scope` must be a string or a function of the arguments; got number$/,
    );
  });

  test("a definition without a handler, a role without a list and no roles at all are refused", async () => {
    await expectDefinitionError(
      () => userMutation({ args: {} } as never),
      /^authz builders take \{ args, handler, ... \}$/,
    );
    await expectDefinitionError(
      () =>
        new Authz(components.authz, {
          roles: { a: "x.y" as unknown as ["x.y"] },
        }),
      /^authz: role "a" must list its permissions$/,
    );
    await expectDefinitionError(
      () => new Authz(components.authz, { roles: {} }).roleValidator(),
      /^authz: roleValidator\(\) needs at least one role$/,
    );
  });
  // Found by atk-arch1: a definition or config that is not an object (a JS
  // caller, a config built at runtime) failed with a TypeError, not the coded
  // INVALID_ARGUMENT every other definition-time mistake throws.
  test("a definition or config that is not an object is refused with a code, not a TypeError", async () => {
    await expectDefinitionError(
      () => userMutation(null as never),
      /^authz builders take \{ args, handler, ... \}$/,
    );
    await expectDefinitionError(
      () => new Authz(components.authz, null as never),
      /^authz: new Authz\(component, config\) takes a config object \{ roles, ... \}$/,
    );
    await expectDefinitionError(
      () => new Authz(components.authz, {} as never),
      /^authz: roles must be an object of role names to permission lists$/,
    );
    await expectDefinitionError(
      () => new Authz(components.authz, { roles: null } as never),
      /^authz: roles must be an object of role names to permission lists$/,
    );
    await expectDefinitionError(
      () =>
        new Authz(components.authz, {
          roles: { a: ["x.y"] },
          services: { bot: { key: "k" } },
        } as never),
      /^authz: service "bot" must list its roles$/,
    );
    await expectDefinitionError(
      () =>
        new Authz(components.authz, {
          roles: { a: ["x.y"] },
          services: { bot: null },
        } as never),
      /^authz: service "bot" must list its roles$/,
    );
    await expectDefinitionError(
      () => defineRules<DataModel>(null as never),
      /^authz: defineRules takes an object of rules by table name$/,
    );
  });
});
