import { anyApi } from "convex/server";
import auditLogConfig from "convex-opskit/auditLog/convex.config";
import { describe, expect, test, vi } from "vitest";
import {
  FUNCTION_CLOCK_SLACK_MS,
  codeOf,
  captureLogs,
  fakeClock,
} from "../helpers.js";
import { auditTest } from "./setup.js";
import { schema, SUPPORT_TOOL_KEY } from "./withAuthz.js";

const api = anyApi.withAuthz;
const reason = "SUP-1234 customer asked to downgrade";
const page = { numItems: 10, cursor: null };

const lines = captureLogs();
fakeClock();

async function setup() {
  const t = auditTest(
    { "./withAuthz.ts": () => import("./withAuthz.js") },
    schema,
  );
  const userId = await t.mutation(api.seedUser, { name: "ann" });
  const as = (subject: string, email = `${subject}@example.com`) =>
    t.withIdentity({ subject, email, tokenIdentifier: subject });
  return { t, userId, as };
}

describe("with convex-opskit's Authz", () => {
  test("identity and permission come from authz; roles are recorded", async () => {
    const { t, userId, as } = await setup();
    expect(
      await codeOf(t.mutation(api.setUserRole, { userId, role: "x", reason })),
    ).toBe("UNAUTHENTICATED");
    expect(
      await codeOf(
        as("sam").mutation(api.setUserRole, { userId, role: "x", reason }),
      ),
    ).toBe("FORBIDDEN");
    expect(lines.some((l) => l.event === "authz.deny")).toBe(true);
    await t.mutation(api.grant, { userId: "sam", role: "support" });
    await as("sam").mutation(api.setUserRole, {
      userId,
      role: "viewer",
      reason,
    });
    await t.mutation(api.grant, { userId: "ada", role: "auditor" });
    const ops = await as("ada").query(api.actionsBy, {
      actorId: "sam",
      from: 0,
      to: Date.now() + FUNCTION_CLOCK_SLACK_MS, // operations ran on a function clock up to 1 ms ahead
      paginationOpts: page,
    });
    expect(ops.page).toEqual([
      expect.objectContaining({
        actorId: "sam",
        actorKind: "user",
        roles: ["support"],
        reason,
        functionName: "withAuthz:setUserRole",
      }),
    ]);
    const history = await as("ada").query(api.userHistory, {
      userId,
      paginationOpts: page,
    });
    expect(history.page[0]).toMatchObject({ kind: "patch", changed: ["role"] });
    // Reading the log is itself permission-checked.
    expect(
      await codeOf(
        as("sam").query(api.userHistory, { userId, paginationOpts: page }),
      ),
    ).toBe("FORBIDDEN");
  });

  test("revert needs its own permission and records a linked operation", async () => {
    const { t, userId, as } = await setup();
    await t.mutation(api.grant, { userId: "sam", role: "support" });
    await t.mutation(api.grant, { userId: "root", role: "admin" });
    await as("sam").mutation(api.setUserRole, {
      userId,
      role: "viewer",
      reason,
    });
    await t.mutation(api.grant, { userId: "ada", role: "auditor" });
    const [op] = (
      await as("ada").query(api.actionsBy, {
        actorId: "sam",
        from: 0,
        to: Date.now() + FUNCTION_CLOCK_SLACK_MS, // operations ran on a function clock up to 1 ms ahead
        paginationOpts: page,
      })
    ).page;
    expect(
      await codeOf(
        as("sam").mutation(api.revertOperation, {
          operationId: op.operationId,
          reason,
        }),
      ),
    ).toBe("FORBIDDEN");
    await as("root").mutation(api.revertOperation, {
      operationId: op.operationId,
      reason,
    });
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
    const asOf = await as("ada").query(api.userAsOf, {
      userId,
      at: Date.now(),
    });
    expect(asOf.doc).toMatchObject({ role: "member" });
  });

  test("outside an admin mutation, revert checks authz and records the verified actor", async () => {
    const { t, userId, as } = await setup();
    await t.mutation(api.grant, { userId: "sam", role: "support" });
    await t.mutation(api.grant, { userId: "root", role: "admin" });
    await t.mutation(api.grant, { userId: "ada", role: "auditor" });
    await as("sam").mutation(api.setUserRole, {
      userId,
      role: "viewer",
      reason,
    });
    const ops = () =>
      as("ada").query(api.actionsBy, {
        actorId: "root",
        from: 0,
        to: Date.now() + FUNCTION_CLOCK_SLACK_MS, // operations ran on a function clock up to 1 ms ahead
        paginationOpts: page,
      });
    const [op] = (
      await as("ada").query(api.actionsBy, {
        actorId: "sam",
        from: 0,
        to: Date.now() + FUNCTION_CLOCK_SLACK_MS, // operations ran on a function clock up to 1 ms ahead
        paginationOpts: page,
      })
    ).page;
    const args = { operationId: op.operationId, reason };
    expect(await codeOf(t.mutation(api.rollback, args))).toBe(
      "UNAUTHENTICATED",
    );
    expect(await codeOf(as("sam").mutation(api.rollback, args))).toBe(
      "FORBIDDEN",
    );
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "viewer",
    });
    expect((await ops()).page).toEqual([]);
    await as("root").mutation(api.rollback, args);
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "member",
    });
    expect((await ops()).page).toEqual([
      expect.objectContaining({
        actorId: "root",
        actorKind: "user",
        roles: ["admin"],
        functionName: "withAuthz:rollback",
        revertOf: { operationId: op.operationId },
      }),
    ]);
  });

  test("seal, verify and retention run from internal functions and an action", async () => {
    const { t, userId, as } = await setup();
    await t.mutation(api.grant, { userId: "sam", role: "support" });
    await t.mutation(api.grant, { userId: "ada", role: "auditor" });
    await as("sam").mutation(api.setUserRole, {
      userId,
      role: "viewer",
      reason,
    });
    await t.mutation(api.seal, {});
    expect(await as("ada").action(api.verifyLog, {})).toEqual({
      checked: 1,
      pendingSeal: false,
    });
    await t.mutation(api.retention, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const reconcile = await as("ada").query(api.reconcileUsers, {
      paginationOpts: page,
    });
    expect(reconcile.drift).toEqual([]);
  });

  test("service callers authenticate with a key that is never recorded", async () => {
    const { t, userId } = await setup();
    expect(
      await codeOf(
        t.mutation(api.toolSetRole, {
          userId,
          role: "x",
          reason,
          serviceKey: "wrong",
        }),
      ),
    ).toBe("UNAUTHENTICATED");
    expect(
      await codeOf(t.mutation(api.toolSetRole, { userId, role: "x", reason })),
    ).toBe("UNAUTHENTICATED");
    await t.mutation(api.toolSetRole, {
      userId,
      role: "viewer",
      reason,
      serviceKey: SUPPORT_TOOL_KEY,
    });
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "viewer",
    });
    await t.mutation(api.grant, { userId: "ada", role: "auditor" });
    const ops = await t
      .withIdentity({ subject: "ada", tokenIdentifier: "ada" })
      .query(api.actionsBy, {
        actorId: "supportTool",
        from: 0,
        to: Date.now() + FUNCTION_CLOCK_SLACK_MS, // operations ran on a function clock up to 1 ms ahead
        paginationOpts: page,
      });
    expect(ops.page).toEqual([
      expect.objectContaining({
        actorKind: "service",
        roles: ["support"],
        args: { userId, role: "viewer" },
      }),
    ]);
    expect(JSON.stringify([ops, lines])).not.toContain(SUPPORT_TOOL_KEY);
  });

  test("docs: what did this admin change in this table since a time", async () => {
    const { t, userId, as } = await setup();
    const other = await t.mutation(api.seedUser, { name: "bo" });
    await t.mutation(api.grant, { userId: "sam", role: "support" });
    await t.mutation(api.grant, { userId: "root", role: "admin" });
    await t.mutation(api.grant, { userId: "ada", role: "auditor" });
    await as("sam").mutation(api.setUserRole, { userId, role: "a", reason });
    vi.setSystemTime(Date.now() + 60_000);
    const since = Date.now();
    await as("sam").mutation(api.setUserRole, {
      userId: other,
      role: "b",
      reason,
    });
    await as("root").mutation(api.setUserRole, { userId, role: "c", reason });
    const page = await as("ada").query(api.adminChangesIn, {
      actorId: "sam",
      from: since,
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(page.page).toEqual([
      expect.objectContaining({ actorId: "sam", docId: other, table: "users" }),
    ]);
  });

  test("docs: a break-glass admin mutation is recorded and logged on every call", async () => {
    const { t, userId, as } = await setup();
    await t.mutation(api.grant, { userId: "sam", role: "support" });
    await t.mutation(api.grant, { userId: "root", role: "admin" });
    expect(
      await codeOf(
        as("sam").mutation(api.forceRename, { userId, name: "x", reason }),
      ),
    ).toBe("FORBIDDEN");
    await as("root").mutation(api.forceRename, { userId, name: "Ann", reason });
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      name: "Ann",
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: "auditLog.rowRulesBypassed",
        functionName: "withAuthz:forceRename",
        actorId: "root",
      }),
    );
  });

  test("a scope derived from the arguments is checked by authz", async () => {
    const { t, userId, as } = await setup();
    await t.mutation(api.grant, {
      userId: "sam",
      role: "support",
      scope: "team:42",
    });
    const args = { userId, role: "lead", reason };
    expect(
      await codeOf(
        as("sam").mutation(api.setTeamMemberRole, { ...args, teamId: "7" }),
      ),
    ).toBe("FORBIDDEN");
    await as("sam").mutation(api.setTeamMemberRole, { ...args, teamId: "42" });
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      role: "lead",
    });
  });

  test("a plain authorizer function works instead of authz", async () => {
    const { t, userId, as } = await setup();
    expect(
      await codeOf(
        as("eve").mutation(api.renameUser, { userId, name: "x", reason }),
      ),
    ).toBe("FORBIDDEN");
    await as("olga", "olga@ops.example.com").mutation(api.renameUser, {
      userId,
      name: "ann (fixed)",
      reason,
    });
    expect(await t.query(api.getUser, { userId })).toMatchObject({
      name: "ann (fixed)",
    });
  });

  test("the component's convex.config resolves from the package", () => {
    // app.use() itself needs the Convex bundler (it sets the definition path);
    // what it would use is this component definition, named "auditLog".
    expect(auditLogConfig).toMatchObject({
      _isRoot: false,
      _name: "auditLog",
      _childComponents: [],
    });
  });

  test("the cron schedule in the README is valid", async () => {
    const { crons } = await import("./withAuthz.js");
    expect(Object.keys(crons.crons).sort()).toEqual([
      "audit retention",
      "seal audit log",
    ]);
  });
});
