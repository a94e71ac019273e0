import { anyApi } from "convex/server";
import { describe, expect, test } from "vitest";
import { near, errorOf, captureLogs, fakeClock } from "../helpers.js";
import { REDACTED } from "convex-opskit/auditLog";
import { auditLog, FakeAuthz } from "./app.js";
import { auditTest } from "./setup.js";

const api = anyApi.app;
const reason = "SUP-1234 customer asked to downgrade";
const page = { numItems: 50, cursor: null };

const lines = captureLogs();
fakeClock();

async function setup() {
  const t = auditTest();
  const admin = t.withIdentity({ subject: "admin" });
  const userId = await t.mutation(api.seedUser, { name: "ann" });
  const entries = async (args: Record<string, unknown> = {}) =>
    (await t.query(api.list, { args: { ...args, paginationOpts: page } })).page;
  const operations = async () =>
    (await t.query(api.listOperations, { args: { paginationOpts: page } }))
      .page;
  return { t, admin, userId, entries, operations };
}

describe("atomic capture", () => {
  test("an id-only patch records table, id, kind, before, after and changed fields", async () => {
    const { admin, userId, entries } = await setup();
    await admin.mutation(api.setUserRole, { userId, role: "viewer", reason });
    const [e] = await entries();
    expect(e).toMatchObject({
      table: "users",
      docId: userId,
      kind: "patch",
      changed: ["role"],
      actorId: "admin",
      functionName: "app:setUserRole",
      index: 0,
    });
    expect(e.before).toMatchObject({
      _id: userId,
      role: "member",
      name: "ann",
    });
    expect(e.after).toMatchObject({ _id: userId, role: "viewer", name: "ann" });
  });

  test("explicit-table patch, replace, insert and both delete forms are recorded", async () => {
    const { t, admin, userId, entries } = await setup();
    await admin.mutation(api.renameUser, { userId, name: "anna", reason });
    await admin.mutation(api.replaceUser, {
      userId,
      name: "anna",
      email: "new@example.com",
      reason,
    });
    const bob = await admin.mutation(api.createUser, {
      name: "bob",
      email: "bob@example.com",
      role: "member",
      reason,
    });
    await admin.mutation(api.deleteUser, { userId, explicit: true, reason });
    await admin.mutation(api.deleteUser, {
      userId: bob,
      explicit: false,
      reason,
    });
    const all = (await entries({ order: "asc" })).map(
      (e: { kind: string; changed: string[]; docId: string }) => [
        e.kind,
        e.docId,
        e.changed,
      ],
    );
    expect(all).toEqual([
      ["patch", userId, ["name"]],
      ["replace", userId, ["email"]],
      ["insert", bob, ["email", "name", "role"]],
      ["delete", userId, ["email", "name", "role"]],
      ["delete", bob, ["email", "name", "role"]],
    ]);
    const [lastDelete] = await entries();
    expect(lastDelete.after).toBeNull();
    expect(lastDelete.before).toMatchObject({ name: "bob" });
    expect(await t.query(api.countDocs, {})).toEqual({ users: 0, projects: 0 });
  });

  test("ctx.db.table(...) writes are recorded too", async () => {
    const { admin, userId, entries } = await setup();
    await admin.mutation(api.tableWriter, { userId, name: "zed", reason });
    const [e] = await entries();
    expect(e).toMatchObject({
      kind: "patch",
      docId: userId,
      changed: ["name"],
    });
  });

  test("one operation per call, one entry per touched document, several writes coalesced", async () => {
    const { t, admin, userId, entries, operations } = await setup();
    const bo = await t.mutation(api.seedUser, { name: "bo" });
    const projectId = await admin.mutation(api.bulkEdit, {
      userIds: [userId, bo],
      suffix: "!",
      reason,
    });
    const ops = await operations();
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({
      entryCount: 3,
      tables: ["users", "projects"],
      args: { userIds: [userId, bo], suffix: "!" },
    });
    const list = await entries({ order: "asc" });
    expect(list.map((e: { docId: string }) => e.docId)).toEqual([
      userId,
      bo,
      projectId,
    ]);
    expect(list[0]).toMatchObject({ kind: "patch", changed: ["name", "role"] });
    expect(list[0].before).toMatchObject({ name: "ann", role: "member" });
    expect(list[0].after).toMatchObject({ name: "ann!", role: "role!" });
    // Inserted then patched in the same call: one insert entry with the final state.
    expect(list[2]).toMatchObject({ kind: "insert", before: null });
    expect(list[2].after).toMatchObject({ name: "p!" });
  });

  test("a write that throws and is caught by the handler leaves no entry", async () => {
    const { t, admin, userId, entries } = await setup();
    const bo = await t.mutation(api.seedUser, { name: "bo" });
    await admin.mutation(api.catchFailedWrite, {
      bad: userId,
      good: bo,
      reason,
    });
    const list = await entries();
    expect(list.map((e: { docId: string }) => e.docId)).toEqual([bo]);
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
  });

  test("a handler that throws leaves neither the change nor any record", async () => {
    const { t, admin, userId, entries, operations } = await setup();
    const err = await errorOf(
      admin.mutation(api.failAfterWrite, { userId, reason }),
    );
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
    expect(await t.query(api.countDocs, {})).toEqual({ users: 1, projects: 0 });
    expect(await entries()).toEqual([]);
    expect(await operations()).toEqual([]);
    expect(lines.filter((l) => l.event === "auditLog.write")).toEqual([]);
  });
});

describe("operation record", () => {
  test("actor, roles, function name, trimmed reason, args, request metadata and time", async () => {
    const { t, userId, operations } = await setup();
    // The request carries a bearer token (a JWT with a session secret claim).
    const sessionSecret = "sess_live_9c41f7e2b8d04a6f";
    const caller = t
      .withIdentity({ subject: "support", sessionSecret })
      .withRequestMetadata({ ip: "203.0.113.9", userAgent: "curl/8" });
    const authToken: string = await caller.mutation(api.requestAuthToken, {});
    expect(authToken).toMatch(/^eyJ[\w-]+\.[\w-]+\./);
    await caller.mutation(api.setUserRole, {
      userId,
      role: "viewer",
      reason: `  ${reason} `,
    });
    const [op] = await operations();
    expect(op).toMatchObject({
      actorId: "support",
      actorKind: "user",
      roles: ["support"],
      functionName: "app:setUserRole",
      reason,
      args: { userId, role: "viewer" },
      request: {
        ip: "203.0.113.9",
        userAgent: "curl/8",
        scheduledFunctionId: null,
      },
      time: near(new Date("2026-03-01T10:00:00Z").getTime()), // function clock, up to 1 ms ahead
      entryCount: 1,
    });
    expect(typeof op.request.requestId).toBe("string");
    // The reason travels separately; it is not part of the recorded args.
    expect(op.args).not.toHaveProperty("reason");
    // Neither the token nor anything inside it reaches the record or the log.
    const stored = await t.query(api.getOperation, {
      operationId: op.operationId,
    });
    const [write] = lines.filter((l) => l.event === "auditLog.write");
    expect(write).toMatchObject({ operationId: op.operationId });
    for (const recorded of [op, stored, write]) {
      const text = JSON.stringify(recorded);
      expect(text).not.toContain(authToken);
      expect(text).not.toContain(authToken.split(".")[1]);
      expect(text).not.toContain(sessionSecret);
      expect(text).not.toContain("authToken");
    }
  });

  test("the reason is required, long enough and matches the configured pattern", async () => {
    const { t, admin, userId, operations } = await setup();
    const short = await errorOf(
      admin.mutation(api.setUserRole, { userId, role: "x", reason: " SUP-1 " }),
    );
    expect(short.code).toBe("INVALID_ARGUMENT");
    expect(short.message).toMatch(/at least 8 characters/);
    const noTicket = await errorOf(
      admin.mutation(api.setUserRole, {
        userId,
        role: "x",
        reason: "because I felt like it",
      }),
    );
    expect(noTicket.code).toBe("INVALID_ARGUMENT");
    expect(noTicket.message).toMatch(/ticket id like SUP-123/);
    // A missing reason fails argument validation before anything runs.
    await expect(
      admin.mutation(api.setUserRole, { userId, role: "x" }),
    ).rejects.toThrow(/reason/);
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
    expect(await operations()).toEqual([]);
  });

  test("authentication and permission come from the authorizer; refusals write nothing", async () => {
    const { t, userId, operations } = await setup();
    const anon = await errorOf(
      t.mutation(api.setUserRole, { userId, role: "x", reason }),
    );
    expect(anon.code).toBe("UNAUTHENTICATED");
    const support = t.withIdentity({ subject: "support" });
    const forbidden = await errorOf(
      support.mutation(api.revertOperation, { operationId: "x", reason }),
    );
    expect(forbidden.code).toBe("FORBIDDEN");
    expect(await operations()).toEqual([]);
  });

  test("one auditLog.write log line per operation, without redacted values", async () => {
    const { admin, userId } = await setup();
    await admin.mutation(api.setPassword, {
      userId,
      password: "hunter22",
      reason,
    });
    const writes = lines.filter((l) => l.event === "auditLog.write");
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      functionName: "app:setPassword",
      actorId: "admin",
      actorKind: "user",
      reason,
      tables: ["users"],
      entries: 1,
      changes: [
        {
          table: "users",
          docId: userId,
          kind: "patch",
          changed: ["passwordHash"],
        },
      ],
    });
    expect(typeof writes[0].operationId).toBe("string");
    expect(JSON.stringify(lines)).not.toContain("hunter22");
  });
});

describe("scope", () => {
  test("patching a document of an undeclared table is FORBIDDEN and rolls back", async () => {
    const { t, admin, userId, operations } = await setup();
    const projectId = await t.mutation(api.seedProject, { name: "apollo" });
    const err = await errorOf(
      admin.mutation(api.sneakyWrite, { userId, projectId, reason }),
    );
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toMatch(/may write only to users/);
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
    expect(await operations()).toEqual([]);
    expect(lines.find((l) => l.event === "auditLog.refuse")).toMatchObject({
      functionName: "app:sneakyWrite",
      actorId: "admin",
      write: "patch",
    });
  });

  test("inserting into an undeclared table is FORBIDDEN and rolls back", async () => {
    const { t, admin, userId, operations } = await setup();
    const err = await errorOf(
      admin.mutation(api.sneakyWrite, { userId, reason }),
    );
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toMatch(/"projects"/);
    expect(await t.query(api.countDocs, {})).toEqual({ users: 1, projects: 0 });
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
    expect(await operations()).toEqual([]);
  });
});

describe("redaction", () => {
  test("configured fields never reach before, after or args; changed still names them", async () => {
    const { t, admin, userId, entries, operations } = await setup();
    const bob = await admin.mutation(api.createUser, {
      name: "bob",
      email: "bob@example.com",
      role: "member",
      password: "s3cret-pw",
      ssn: "123-45-6789",
      reason,
    });
    await admin.mutation(api.setPassword, {
      userId: bob,
      password: "n3w-pw",
      reason,
    });
    const [changePw, create] = await entries();
    expect(create.after).toMatchObject({
      passwordHash: REDACTED,
      profile: { city: "Paris", ssn: REDACTED },
    });
    expect(changePw.before.passwordHash).toBe(REDACTED);
    expect(changePw.after.passwordHash).toBe(REDACTED);
    expect(changePw.changed).toEqual(["passwordHash"]);
    const ops = await operations();
    expect(ops[0].args).toEqual({ userId: bob, password: REDACTED });
    // A field redacted in a table is redacted in arguments of the same name too.
    expect(ops[1].args).toMatchObject({ password: REDACTED, ssn: REDACTED });
    const everything = JSON.stringify([await entries(), ops]);
    for (const secret of ["s3cret-pw", "n3w-pw", "123-45-6789"])
      expect(everything).not.toContain(secret);
    // The real values are in the app's table, untouched.
    expect(await t.query(api.getUser, { userId: bob })).toMatchObject({
      passwordHash: "hash:n3w-pw",
    });
    void userId;
  });
});

describe("permission and scope checks", () => {
  const def = {
    tables: ["users" as const],
    args: {},
    handler: async () => null,
  };

  test("with an authorizer object, a permission is required", async () => {
    const adminMutation = auditLog.adminMutation(new FakeAuthz());
    // Types forbid this too (see types.test.ts); plain JS callers get the error.
    const err = await errorOf(() => adminMutation(def as never));
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(
      /^auditLog: admin mutation needs a `permission`.*any signed-in user/,
    );
    expect(() =>
      adminMutation({ ...def, permission: "users.manage" }),
    ).not.toThrow();
  });

  test("a scope without a permission is refused, whatever the authorizer", async () => {
    const withObject = auditLog.adminMutation(new FakeAuthz());
    const err = await errorOf(() =>
      withObject({ ...def, scope: "team:1", name: "scoped" } as never),
    );
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toBe(
      "auditLog: admin mutation scoped: `scope` needs a `permission` to check",
    );
    const withFunction = auditLog.adminMutation(async () => ({
      actorId: "svc",
      actorKind: "service",
    }));
    const fromFunction = await errorOf(() =>
      withFunction({ ...def, scope: () => "team:1" }),
    );
    expect(fromFunction.code).toBe("INVALID_ARGUMENT");
    expect(fromFunction.message).toBe(
      "auditLog: admin mutation: `scope` needs a `permission` to check",
    );
    // Function authorizers may omit the permission when there is no scope.
    expect(() => withFunction(def)).not.toThrow();
    expect(() =>
      withFunction({ ...def, permission: "x", scope: "team:1" }),
    ).not.toThrow();
  });

  test("a scope function resolving to no scope is INVALID_ARGUMENT and writes nothing", async () => {
    const { admin, t, userId, operations } = await setup();
    const err = await errorOf(
      admin.mutation(api.brokenScope, { userId, reason }),
    );
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(
      /scope of app:brokenScope resolved to undefined/,
    );
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
    expect(await operations()).toEqual([]);
  });
});

describe("without our authz", () => {
  test("a plain function authorizer supplies the actor or refuses", async () => {
    const { t, userId, operations } = await setup();
    await t
      .withIdentity({ subject: "svc:billing" })
      .mutation(api.serviceRename, { userId, name: "ann (billing)", reason });
    const [op] = await operations();
    expect(op).toMatchObject({
      actorId: "svc:billing",
      actorKind: "service",
      roles: [],
      functionName: "app:serviceRename",
    });
    const err = await errorOf(
      t
        .withIdentity({ subject: "admin" })
        .mutation(api.serviceRename, { userId, name: "nope", reason }),
    );
    expect(err.code).toBe("FORBIDDEN");
    expect(await operations()).toHaveLength(1);
  });
});
