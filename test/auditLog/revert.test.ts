import { anyApi } from "convex/server";
import { describe, expect, test } from "vitest";
import { auditLog } from "./app.js";
import { auditTest } from "./setup.js";
import { errorOf, captureLogs, fakeClock } from "../helpers.js";

const api = anyApi.app;
const reason = "SUP-77 undo the bad change";
const page = { numItems: 50, cursor: null };

captureLogs();
fakeClock();

async function setup() {
  const t = auditTest();
  const admin = t.withIdentity({ subject: "admin" });
  const ann = await t.mutation(api.seedUser, { name: "ann" });
  const bo = await t.mutation(api.seedUser, { name: "bo" });
  const operations = async () =>
    (await t.query(api.listOperations, { args: { paginationOpts: page } }))
      .page;
  const user = (userId: string) => t.query(api.getUser, { userId });
  return { t, admin, ann, bo, operations, user };
}

describe("revert", () => {
  test("undoes a whole operation as a new audited operation linked to it", async () => {
    const { t, admin, ann, bo, operations, user } = await setup();
    await admin.mutation(api.bulkEdit, {
      userIds: [ann, bo],
      suffix: "!",
      reason,
    });
    const [original] = await operations();
    const result = await admin.mutation(api.revertOperation, {
      operationId: original.operationId,
      reason,
    });
    expect(result).toEqual({ revertedEntries: 3, recreated: [] });
    expect(await user(ann)).toMatchObject({ name: "ann", role: "member" });
    expect(await user(bo)).toMatchObject({ name: "bo", role: "member" });
    expect(await t.query(api.countDocs, {})).toEqual({ users: 2, projects: 0 });
    const [revert] = await operations();
    expect(revert).toMatchObject({
      functionName: "app:revertOperation",
      actorId: "admin",
      reason,
      revertOf: { operationId: original.operationId },
      entryCount: 3,
    });
    const detail = await t.query(api.getOperation, {
      operationId: revert.operationId,
    });
    expect(detail.entries.map((e: { kind: string }) => e.kind).sort()).toEqual([
      "delete",
      "replace",
      "replace",
    ]);
  });

  test("undoes a single entry only", async () => {
    const { t, admin, ann, bo, operations, user } = await setup();
    await admin.mutation(api.bulkEdit, {
      userIds: [ann, bo],
      suffix: "!",
      reason,
    });
    const [original] = await operations();
    const detail = await t.query(api.getOperation, {
      operationId: original.operationId,
    });
    const boEntry = detail.entries.find(
      (e: { docId: string }) => e.docId === bo,
    );
    await admin.mutation(api.revertOperation, {
      entryId: boEntry.entryId,
      reason,
    });
    expect(await user(bo)).toMatchObject({ name: "bo", role: "member" });
    expect(await user(ann)).toMatchObject({ name: "ann!", role: "role!" });
    const [revert] = await operations();
    expect(revert.revertOf).toEqual({
      operationId: original.operationId,
      entryId: boEntry.entryId,
    });
  });

  test("refuses with CONFLICT when the document changed afterwards, unless forced", async () => {
    const { t, admin, ann, operations, user } = await setup();
    await admin.mutation(api.setUserRole, {
      userId: ann,
      role: "admin",
      reason,
    });
    const [original] = await operations();
    // A later change, here made outside admin mutations.
    await t.mutation(api.outOfBand, { userId: ann, patch: { name: "annie" } });
    const err = await errorOf(
      admin.mutation(api.revertOperation, {
        operationId: original.operationId,
        reason,
      }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err).toMatchObject({ conflicts: [{ table: "users", docId: ann }] });
    expect(await user(ann)).toMatchObject({ name: "annie", role: "admin" });
    expect(await operations()).toHaveLength(1);

    await admin.mutation(api.revertOperation, {
      operationId: original.operationId,
      force: true,
      reason,
    });
    // Forcing restores the recorded `before` as a whole.
    expect(await user(ann)).toMatchObject({ name: "ann", role: "member" });
  });

  test("an audited later change conflicts too", async () => {
    const { admin, ann, operations } = await setup();
    await admin.mutation(api.setUserRole, {
      userId: ann,
      role: "admin",
      reason,
    });
    const [first] = await operations();
    await admin.mutation(api.renameUser, { userId: ann, name: "ann2", reason });
    const err = await errorOf(
      admin.mutation(api.revertOperation, {
        operationId: first.operationId,
        reason,
      }),
    );
    expect(err.code).toBe("CONFLICT");
  });

  test("reverting an insert deletes; reverting a delete re-creates with a new id", async () => {
    const { t, admin, ann, operations, user } = await setup();
    const carl = await admin.mutation(api.createUser, {
      name: "carl",
      email: "c@example.com",
      role: "member",
      reason,
    });
    const [insertOp] = await operations();
    await admin.mutation(api.revertOperation, {
      operationId: insertOp.operationId,
      reason,
    });
    expect(await user(carl)).toBeNull();

    await admin.mutation(api.deleteUser, {
      userId: ann,
      explicit: true,
      reason,
    });
    const [deleteOp] = await operations();
    const result = await admin.mutation(api.revertOperation, {
      operationId: deleteOp.operationId,
      reason,
    });
    expect(result.recreated).toEqual([
      { table: "users", oldDocId: ann, newDocId: expect.any(String) },
    ]);
    expect(await user(result.recreated[0].newDocId)).toMatchObject({
      name: "ann",
      email: "ann@example.com",
      role: "member",
    });
    expect(await t.query(api.countDocs, {})).toEqual({ users: 2, projects: 0 });
  });

  test("redacted fields keep their live value; a deleted document with redacted fields needs force", async () => {
    const { admin, operations, user } = await setup();
    const dee = await admin.mutation(api.createUser, {
      name: "dee",
      email: "d@example.com",
      role: "member",
      password: "pw-one",
      reason,
    });
    await admin.mutation(api.setUserRole, {
      userId: dee,
      role: "admin",
      reason,
    });
    const [roleOp] = await operations();
    await admin.mutation(api.revertOperation, {
      operationId: roleOp.operationId,
      reason,
    });
    expect(await user(dee)).toMatchObject({
      role: "member",
      passwordHash: "hash:pw-one",
    });

    await admin.mutation(api.deleteUser, {
      userId: dee,
      explicit: false,
      reason,
    });
    const [deleteOp] = await operations();
    const err = await errorOf(
      admin.mutation(api.revertOperation, {
        operationId: deleteOp.operationId,
        reason,
      }),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toMatch(/passwordHash/);
    const forced = await admin.mutation(api.revertOperation, {
      operationId: deleteOp.operationId,
      force: true,
      reason,
    });
    const restored = await user(forced.recreated[0].newDocId);
    expect(restored).toMatchObject({ name: "dee", role: "member" });
    expect(restored).not.toHaveProperty("passwordHash");
  });

  test("the admin scope still applies to what a revert writes", async () => {
    const { t, admin, ann, operations, user } = await setup();
    await admin.mutation(api.bulkEdit, { userIds: [ann], suffix: "?", reason });
    const [op] = await operations();
    // The operation also inserted a project; this mutation may only write users.
    const err = await errorOf(
      admin.mutation(api.revertUsersOnly, {
        operationId: op.operationId,
        reason,
      }),
    );
    expect(err.code).toBe("FORBIDDEN");
    expect(await user(ann)).toMatchObject({ name: "ann?" });
    expect(await t.query(api.countDocs, {})).toEqual({ users: 2, projects: 1 });
    expect(await operations()).toHaveLength(1);
  });

  test("outside an admin call, revert records the given actor and reason", async () => {
    const { t, admin, ann, operations, user } = await setup();
    await admin.mutation(api.setUserRole, {
      userId: ann,
      role: "admin",
      reason,
    });
    const [op] = await operations();
    const result = await t.mutation(api.systemRevert, {
      operationId: op.operationId,
      reason: "SUP-9 automated rollback",
    });
    expect(result.operationId).toEqual(expect.any(String));
    expect(await user(ann)).toMatchObject({ role: "member" });
    const [revert] = await operations();
    expect(revert).toMatchObject({
      operationId: result.operationId,
      actorId: "system:janitor",
      actorKind: "system",
      reason: "SUP-9 automated rollback",
      revertOf: { operationId: op.operationId },
    });
    const bad = await errorOf(
      t.mutation(api.systemRevert, {
        operationId: op.operationId,
        reason: "oops",
      }),
    );
    expect(bad.code).toBe("INVALID_ARGUMENT");
  });

  test("a revert's scope needs a permission: INVALID_ARGUMENT, as in a definition", async () => {
    const { t } = await setup();
    const err = await errorOf(
      t.run((ctx) =>
        auditLog.revert(ctx as never, {
          operationId: "any",
          reason: "SUP-9 undo it",
          authorizer: async () => ({ actorId: "svc", actorKind: "service" }),
          scope: "team:1",
        }),
      ),
    );
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.message).toBe(
      "auditLog: revert: `scope` needs a `permission` to check",
    );
  });

  test("outside an admin call, an authorizer checks the caller and supplies the actor", async () => {
    const { t, admin, ann, operations, user } = await setup();
    await admin.mutation(api.setUserRole, {
      userId: ann,
      role: "admin",
      reason,
    });
    const [op] = await operations();
    const args = { operationId: op.operationId, reason: "SUP-9 undo it" };
    const anon = await errorOf(t.mutation(api.authorizedRevert, args));
    expect(anon.code).toBe("UNAUTHENTICATED");
    // support holds users.manage but not audit.revert.
    const support = t.withIdentity({ subject: "support" });
    const forbidden = await errorOf(
      support.mutation(api.authorizedRevert, args),
    );
    expect(forbidden).toMatchObject({
      code: "FORBIDDEN",
      permission: "audit.revert",
    });
    expect(await user(ann)).toMatchObject({ role: "admin" });
    expect(await operations()).toHaveLength(1);

    const result = await admin.mutation(api.authorizedRevert, args);
    expect(await user(ann)).toMatchObject({ role: "member" });
    const [revert] = await operations();
    expect(revert).toMatchObject({
      operationId: result.operationId,
      actorId: "admin",
      actorKind: "user",
      roles: ["admin"],
      reason: "SUP-9 undo it",
      functionName: "app:authorizedRevert",
      revertOf: { operationId: op.operationId },
    });
  });

  test("inside an admin call, an authorizer given to revert is checked too", async () => {
    const { t, admin, ann, operations, user } = await setup();
    await admin.mutation(api.setUserRole, {
      userId: ann,
      role: "admin",
      reason,
    });
    const [op] = await operations();
    const args = { operationId: op.operationId, reason };
    // support may run the users.manage mutation, but not revert through it.
    const forbidden = await errorOf(
      t
        .withIdentity({ subject: "support" })
        .mutation(api.revertAsUsersManager, args),
    );
    expect(forbidden).toMatchObject({
      code: "FORBIDDEN",
      permission: "audit.revert",
    });
    expect(await user(ann)).toMatchObject({ role: "admin" });
    expect(await operations()).toHaveLength(1);
    expect(await admin.mutation(api.revertAsUsersManager, args)).toBe(1);
    expect(await user(ann)).toMatchObject({ role: "member" });
    expect((await operations())[0]).toMatchObject({
      actorId: "admin",
      revertOf: { operationId: op.operationId },
    });
  });

  test("unknown operation or entry ids are NOT_FOUND", async () => {
    const { admin } = await setup();
    const a = await errorOf(
      admin.mutation(api.revertOperation, { operationId: "nope", reason }),
    );
    expect(a.code).toBe("NOT_FOUND");
    const b = await errorOf(
      admin.mutation(api.revertOperation, { entryId: "nope", reason }),
    );
    expect(b.code).toBe("NOT_FOUND");
  });
});
