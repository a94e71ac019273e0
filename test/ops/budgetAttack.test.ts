/**
 * The console's page budget (issue 10, item 3: "ops console trail pages")
 * under an independent attack: rows are measured to size the next read,
 * and audited documents may hold any Convex value — int64 and bytes too.
 */
import { convexTest } from "convex-test";
import opskit from "convex-opskit/test";
import { expect, test } from "vitest";
import { api, components, internal } from "../../convex/_generated/api";
import schema from "../../convex/schema";
import { modules } from "../example/setup";

test("the trail and the operations list serve audited values holding int64 and bytes (sizing a page by JSON.stringify threw 'Do not know how to serialize a BigInt')", async () => {
  const t = convexTest({ schema, modules, transactionLimits: true });
  opskit.registerAll(t);
  await t.mutation(internal.init.seed, {});
  const alice = t.withIdentity({ subject: "alice" });
  // An app's audited table with an int64 and a bytes field, recorded as the
  // client records it.
  await t.mutation(components.auditLog.log.append, {
    operation: {
      actorId: "alice",
      actorKind: "user",
      roles: [],
      functionName: "admin:setQuota",
      reason: "OPS-12 raise the quota",
      args: { quota: 10n ** 15n },
      request: null,
      time: Date.now(),
      tables: ["posts"],
    },
    entries: [
      {
        table: "posts",
        docId: "p1",
        kind: "patch",
        before: { quota: 1n, blob: new Uint8Array([1, 2]).buffer },
        after: { quota: 10n ** 15n, blob: new Uint8Array([1, 2]).buffer },
        changed: ["quota"],
      },
    ],
  });
  const trail = await alice.query(api.ops.auditTrail, {
    table: "posts",
    paginationOpts: { numItems: 10, cursor: null },
  });
  expect(trail.page.map((e: { after: unknown }) => e.after)).toContainEqual({
    quota: 10n ** 15n,
    blob: expect.any(ArrayBuffer),
  });
  const ops = await alice.query(api.ops.auditOperations, {
    paginationOpts: { numItems: 10, cursor: null },
  });
  expect(ops.page.map((o: { args: unknown }) => o.args)).toContainEqual({
    quota: 10n ** 15n,
  });
});
