/**
 * Compile-time guarantees: names users choose (tables, redacted fields,
 * permissions) are checked, and `list` accepts only index-backed filters.
 * `tsc` fails if any `@ts-expect-error` below stops being an error.
 */
import type {
  GenericMutationCtx,
  GenericQueryCtx,
  PaginationOptions,
  RegisteredMutation,
} from "convex/server";
import { v } from "convex/values";
import { describe, expect, test } from "vitest";
import { AuditLog } from "convex-opskit/auditLog";
import { components } from "../helpers.js";
import { FakeAuthz, type DataModel } from "./app.js";
import { authz, setUserRole, toolSetRole } from "./withAuthz.js";

const auditLog = new AuditLog<DataModel>(components.auditLog, {
  redact: { users: ["passwordHash", "profile.ssn"] },
});
/** What a client must send to a registered mutation. */
type ArgsOf<F> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  F extends RegisteredMutation<any, infer A, any> ? A : never;
const paginationOpts: PaginationOptions = { numItems: 10, cursor: null };

describe("types", () => {
  test("configured names are type-checked", () => {
    new AuditLog<DataModel>(components.auditLog, {
      // @ts-expect-error a field the users table does not have
      redact: { users: ["passwordHsh"] },
    });
    new AuditLog<DataModel>(components.auditLog, {
      // @ts-expect-error a table the app does not have
      redact: { usres: ["name"] },
    });

    const adminMutation = auditLog.adminMutation(new FakeAuthz());
    const ok = adminMutation({
      permission: "users.manage",
      tables: ["users", "projects"],
      args: { userId: v.id("users") },
      handler: async (ctx, { userId }) => {
        await ctx.db.patch(userId, { role: "x" });
        // @ts-expect-error the handler's db is the app's typed db
        await ctx.db.patch(userId, { rol: "x" });
      },
    });
    adminMutation({
      // @ts-expect-error a permission FakeAuthz does not know
      permission: "users.manag",
      tables: ["users"],
      args: {},
      handler: async () => {},
    });
    adminMutation({
      permission: "users.manage",
      // @ts-expect-error a table the app does not have
      tables: ["usres"],
      args: {},
      handler: async () => {},
    });

    // The real Authz types its permission names the same way.
    const withAuthz = new AuditLog<DataModel>(
      components.auditLog,
    ).adminMutation(authz);
    withAuthz({
      permission: "audit.revert",
      tables: ["users"],
      args: {},
      handler: async () => {},
    });
    withAuthz({
      // @ts-expect-error not one of authz's permissions
      permission: "audit.revrt",
      tables: ["users"],
      args: {},
      handler: async () => {},
    });
    // A registered mutation (Convex registers functions as callables).
    expect(typeof ok).toBe("function");
    expect((ok as unknown as { isMutation?: boolean }).isMutation).toBe(true);
  });

  test("an authorizer object needs a permission; a function authorizer may omit it", () => {
    const defs = () => {
      const withFake = auditLog.adminMutation(new FakeAuthz());
      // @ts-expect-error without a permission authz would only authenticate
      withFake({ tables: ["users"], args: {}, handler: async () => {} });
      const withAuthz = auditLog.adminMutation(authz);
      // @ts-expect-error the real Authz needs a permission too
      withAuthz({ tables: ["users"], args: {}, handler: async () => {} });
      // @ts-expect-error a scope alone does not make up for the permission
      withAuthz({
        scope: "team:1",
        tables: ["users"],
        args: {},
        handler: async () => {},
      });
      const withFunction = auditLog.adminMutation(async () => ({
        actorId: "svc",
        actorKind: "service",
      }));
      withFunction({ tables: ["users"], args: {}, handler: async () => {} });
      // Authenticate-only with authz, said explicitly (as the docs suggest).
      const signedIn = auditLog.adminMutation((ctx) =>
        authz.authorize(ctx, {}),
      );
      signedIn({ tables: ["users"], args: {}, handler: async () => {} });
    };
    expect(typeof defs).toBe("function");
  });

  test("revert outside an admin call: an authorizer with its permission, or an actor", () => {
    const ctx = {} as GenericMutationCtx<DataModel>;
    const calls = () => {
      void auditLog.revert(ctx, {
        operationId: "a",
        reason: "SUP-1 undo",
        authorizer: authz,
        permission: "audit.revert",
      });
      // @ts-expect-error an authorizer object needs the permission to check
      void auditLog.revert(ctx, {
        operationId: "a",
        reason: "SUP-1 undo",
        authorizer: authz,
      });
      void auditLog.revert(ctx, {
        operationId: "a",
        reason: "SUP-1 undo",
        authorizer: authz,
        // @ts-expect-error not one of authz's permissions
        permission: "audit.revrt",
      });
      // @ts-expect-error an actor or an authorizer, not both
      void auditLog.revert(ctx, {
        operationId: "a",
        reason: "SUP-1 undo",
        actor: { actorId: "system:janitor", actorKind: "system" },
        authorizer: authz,
        permission: "audit.revert",
      });
      void auditLog.revert(ctx, {
        entryId: "e",
        reason: "SUP-1 undo",
        authorizer: async () => ({ actorId: "svc", actorKind: "service" }),
      });
    };
    expect(typeof calls).toBe("function");
  });

  test("callers must send a reason; only service-enabled mutations take a key", () => {
    const ok: ArgsOf<typeof setUserRole> = {
      userId: "u" as never,
      role: "r",
      reason: "SUP-1 why",
    };
    // @ts-expect-error the reason is required
    const noReason: ArgsOf<typeof setUserRole> = {
      userId: "u" as never,
      role: "r",
    };
    const noKey: ArgsOf<typeof setUserRole> = {
      userId: "u" as never,
      role: "r",
      reason: "SUP-1 why",
      // @ts-expect-error this mutation does not accept a service key
      serviceKey: "k",
    };
    const withKey: ArgsOf<typeof toolSetRole> = {
      userId: "u" as never,
      role: "r",
      reason: "SUP-1 why",
      serviceKey: "k",
    };
    expect([ok, noReason, noKey, withKey]).toHaveLength(4);
  });

  test("list accepts only index-backed filter combinations", () => {
    const ctx = {} as GenericQueryCtx<DataModel>;
    const calls = () => {
      void auditLog.list(ctx, { table: "users", docId: "x", paginationOpts });
      void auditLog.list(ctx, {
        actorId: "admin",
        from: 0,
        to: 1,
        paginationOpts,
      });
      void auditLog.list(ctx, { kind: "delete", paginationOpts });
      // @ts-expect-error a table the app does not have
      void auditLog.list(ctx, { table: "usres", paginationOpts });
      // Index-backed pairs: an actor in a table, an actor's changes of one kind.
      void auditLog.list(ctx, {
        table: "users",
        actorId: "admin",
        from: 0,
        paginationOpts,
      });
      void auditLog.list(ctx, {
        actorId: "admin",
        kind: "delete",
        paginationOpts,
      });
      void auditLog.list(ctx, {
        table: "users",
        // @ts-expect-error table and kind together are not index-backed
        kind: "delete",
        paginationOpts,
      });
      void auditLog.list(ctx, {
        table: "users",
        actorId: "admin",
        // @ts-expect-error three filters are not index-backed
        kind: "delete",
        paginationOpts,
      });
      // @ts-expect-error docId with an actor is not index-backed
      void auditLog.list(ctx, {
        table: "users",
        docId: "x",
        actorId: "a",
        paginationOpts,
      });
      // @ts-expect-error not a kind of change
      void auditLog.list(ctx, { kind: "update", paginationOpts });
      void auditLog.history(ctx, {
        // @ts-expect-error history of a table the app does not have
        table: "usres",
        docId: "x",
        paginationOpts,
      });
      // @ts-expect-error revert names an operation or an entry, not both
      void auditLog.revert({} as never, { operationId: "a", entryId: "b" });
    };
    expect(typeof calls).toBe("function");
  });
});
