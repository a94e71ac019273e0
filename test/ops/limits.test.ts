/**
 * The console's read paths against a deployment's limits (convex-test with
 * `transactionLimits: true`: 16 MiB read per transaction): a trail of large
 * audited changes must page within them.
 */
import { convexTest } from "convex-test";
import opskit from "convex-opskit/test";
import { expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import schema from "../../convex/schema";
import { modules } from "../example/setup";

async function limitedApp() {
  const t = convexTest({ schema, modules, transactionLimits: true });
  opskit.registerAll(t);
  await t.mutation(internal.init.seed, {});
  return t;
}

test("the trail and the operations list of large audited changes (≈600 KB entries) pages within 16 MiB read per query, and the cursor reaches the end", async () => {
  const t = await limitedApp();
  const alice = t.withIdentity({ subject: "alice" });
  const postId = await t.run(
    async (ctx) =>
      (await ctx.db
        .query("posts")
        .withIndex("by_team", (q) => q.eq("teamId", "acme"))
        .first())!._id,
  );
  const CHANGES = 40;
  for (let i = 0; i < CHANGES; i++)
    await alice.mutation(api.admin.fixPost, {
      team: "acme",
      postId,
      body: String.fromCharCode(97 + (i % 26)).repeat(300_000),
      reason: `MOD-${i} rewrite of a very long post`,
    });
  for (const fn of [api.ops.auditTrail, api.ops.auditOperations]) {
    let cursor: string | null = null;
    let rows = 0;
    for (let guard = 0; guard < 100; guard++) {
      const r: {
        page: unknown[];
        isDone: boolean;
        continueCursor: string;
      } = await alice.query(fn, {
        table: "posts",
        paginationOpts: { numItems: 50, cursor },
      });
      rows += r.page.length;
      if (r.isDone) break;
      expect(r.continueCursor).not.toBe(cursor);
      cursor = r.continueCursor;
    }
    expect(rows).toBe(CHANGES);
  }
}, 60_000);
