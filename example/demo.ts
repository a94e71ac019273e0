/**
 * `npm run demo`: a production day of the example app (convex/), run
 * in-process on convex-test, the embedded default: no account, no network.
 * Every step calls the app's public functions with a user identity, exactly
 * as a client would; internal functions are called as the CLI or a cron would.
 */
import { ConvexError } from "convex/values";
import { api, internal } from "../convex/_generated/api.js";
import { setLogSink } from "../src/shared/log.js";
import { printTable } from "../bench/harness.js";
import { createExampleApp } from "./console/app.js";

const showLogs = !process.argv.includes("--no-logs");

// Structured log lines the components emit, shown under the step that caused them.
let logLines: string[] = [];
setLogSink((line) => logLines.push(line));
function flushLogs(max = 4) {
  if (showLogs && logLines.length > 0) {
    console.log(
      `  log stream (${logLines.length} line${logLines.length === 1 ? "" : "s"}):`,
    );
    for (const l of logLines.slice(0, max)) console.log(`    ${l}`);
    if (logLines.length > max)
      console.log(`    … ${logLines.length - max} more`);
  }
  logLines = [];
}

function step(n: number, title: string) {
  console.log(`\n━━ ${n}. ${title}`);
}

function refusal(e: unknown): Record<string, unknown> {
  if (e instanceof ConvexError) return e.data as Record<string, unknown>;
  throw e;
}

const t = createExampleApp();

const as = (subject: string) => t.withIdentity({ subject });

console.log("convex-opskit demo: the example app in convex/, on convex-test");

step(1, "Seed the workspace (internal mutation, idempotent)");
const seeded = await t.mutation(internal.init.seed, {});
const again = await t.mutation(internal.init.seed, {});
console.log(
  `  first run created=${seeded.created}; second run created=${again.created} (nothing changed)`,
);
const users = await t.run((ctx) => ctx.db.query("users").collect());
printTable(
  "  users",
  users.map((u) => ({ user: u.userId, name: u.name, role: u.role })),
);
flushLogs(2);

step(2, "Sign-ups until the rate limit answers (sliding window, 3 per minute)");
const signups: Array<Record<string, string | number>> = [];
for (const who of ["erin", "frank", "grace", "heidi"]) {
  try {
    await as(who).mutation(api.users.signUp, {
      name: who,
      email: `${who}@example.com`,
      team: "acme",
      pin: "4321",
    });
    signups.push({ user: who, result: "signed up" });
  } catch (e) {
    const d = refusal(e);
    signups.push({
      user: who,
      result: `${d.code}: retry in ${Math.ceil(Number(d.retryAfter) / 1000)} s`,
    });
  }
}
printTable("  sign-up attempts", signups);
flushLogs();

step(3, "Bob (acme) tries to edit a post of Carol's team (globex)");
const globexPosts = await as("carol").query(api.posts.list, { team: "globex" });
try {
  await as("bob").mutation(api.posts.edit, {
    team: "globex",
    postId: globexPosts[0].id,
    body: "defaced",
  });
  console.log("  !! the edit went through");
} catch (e) {
  const d = refusal(e);
  console.log(`  refused: ${d.code} — ${d.message}`);
  console.log(
    `  needed ${d.permission} in ${d.scope}; Bob holds there: [${(d.roles as string[]).join(", ")}]`,
  );
}
flushLogs();

step(4, "A login-like PIN check: 3 attempts, then a 15-minute penalty");
const pins: Array<Record<string, string | number>> = [];
for (const pin of ["0000", "1111", "2222", "1234"]) {
  const r = await as("bob").mutation(api.account.checkPin, { pin });
  pins.push({
    pin,
    ok: String(r.ok),
    note: r.retryAfter
      ? `locked: retry in ${Math.round(r.retryAfter / 60000)} min (even with the right PIN)`
      : "",
  });
}
printTable("  attempts", pins);
flushLogs(2);

step(5, "Support changes Bob's role, with a reason");
const bob = users.find((u) => u.userId === "bob")!;
try {
  await as("sam").mutation(api.admin.setUserRole, {
    userId: bob._id,
    role: "support",
    reason: "asked nicely",
  });
} catch (e) {
  const d = refusal(e);
  console.log(`  without a ticket id: ${d.code} — ${d.message}`);
}
await as("sam").mutation(api.admin.setUserRole, {
  userId: bob._id,
  role: "support",
  reason: "SUP-1234 Bob joins the support rota",
});
console.log("  with reason 'SUP-1234 Bob joins the support rota': done");
try {
  await as("carol").mutation(api.admin.setUserRole, {
    userId: bob._id,
    role: "admin",
    reason: "SUP-9999 I would like to be admin",
  });
} catch (e) {
  const d = refusal(e);
  console.log(`  Carol tries the same: ${d.code} — ${d.message}`);
}
flushLogs(3);

step(6, "A moderator removes Dave's spam, as one audited operation");
const removed = await as("alice").mutation(api.admin.removeSpam, {
  team: "acme",
  authorId: "dave",
  reason: "MOD-77 spam reported by Bob",
});
console.log(`  removed ${removed} posts`);
flushLogs(1);

step(7, "The audit trail, with diffs");
const ops = await as("alice").query(api.admin.auditOperations, {
  paginationOpts: { numItems: 20, cursor: null },
});
const reasons = new Map(ops.page.map((o) => [o.operationId, o]));
const trail = [
  ...(
    await as("alice").query(api.admin.auditTrail, {
      table: "users",
      paginationOpts: { numItems: 20, cursor: null },
    })
  ).page,
  ...(
    await as("alice").query(api.admin.auditTrail, {
      table: "posts",
      paginationOpts: { numItems: 20, cursor: null },
    })
  ).page,
].sort((a, b) => a.time - b.time);
const show = (x: unknown) => (typeof x === "string" ? x : JSON.stringify(x));
printTable(
  "  entries",
  trail.map((e) => ({
    actor: e.actorId,
    function: e.functionName,
    reason: reasons.get(e.operationId)?.reason ?? "",
    doc: `${e.table}/${e.docId.slice(-9)}`,
    diff: e.changed
      .map((f) => `${f}: ${show(e.before?.[f])} → ${show(e.after?.[f])}`)
      .join("; "),
  })),
);
console.log(
  `  (users.pinHash is redacted: the log holds ${show(trail[0]?.after?.pinHash)})`,
);

step(8, "Seal the log into its hash chain and verify it");
await t.mutation(internal.auditJobs.seal, {});
const verified = await as("alice").action(api.admin.verifyAudit, {});
printTable("  verify", [
  {
    ok: String(verified.ok),
    "operations checked": verified.checked,
    problems: verified.problems,
  },
]);
flushLogs(1);

step(9, "Revert the role change");
const roleOp = ops.page.find((o) => o.functionName === "admin:setUserRole")!;
const reverted = await as("alice").mutation(api.admin.revertOperation, {
  operationId: roleOp.operationId,
  reason: "SUP-1235 rota change was a mistake",
});
const bobAfter = await t.run((ctx) => ctx.db.get("users", bob._id));
console.log(
  `  reverted ${reverted.reverted} entry; Bob's role is '${bobAfter!.role}' again`,
);
flushLogs(1);

step(10, "Migration: backfill posts.wordCount — dry run first");
// Production has more than the seed: 2,000 posts written before wordCount existed.
await t.run(async (ctx) => {
  for (let i = 0; i < 2000; i++)
    await ctx.db.insert("posts", {
      teamId: i % 2 ? "acme" : "globex",
      authorId: i % 2 ? "bob" : "carol",
      title: `Post ${i}`,
      body: "lorem ipsum ".repeat(1 + (i % 7)).trim(),
      published: true,
    });
});
const pendingBefore = await t.query(internal.migrations.pending, {});
console.log(
  `  pending migrations: ${pendingBefore.map((p) => p.name).join(", ")}`,
);
await t.mutation(internal.migrations.run, {
  fn: "migrations:backfillWordCount",
  dryRun: true,
});
await t.finishAllScheduledFunctions(() => {});
const report = (await as("alice").query(api.migrations.dryRunReport, {}))!;
printTable("  dry-run report (nothing was written)", [
  {
    visited: report.visited,
    "would change": report.wouldChange,
    unchanged: report.unchanged,
    "would fail": report.wouldFail,
  },
]);
printTable(
  "  changes per field",
  report.fields.map((f) => ({ field: f.field, documents: f.count })),
);
const sample = report.samples[0];
if (sample)
  console.log(
    `  sample: wordCount ${show(sample.before.wordCount)} → ${show(sample.after.wordCount)}`,
  );
flushLogs(2);

step(
  11,
  "The real run, as deploy gating starts it (runPending), with progress",
);
await t.mutation(internal.migrations.runPending, { batchSize: 250 });
const progress: Array<Record<string, string | number>> = [];
for (let i = 0; i < 100; i++) {
  await new Promise((r) => setTimeout(r, 1));
  await t.finishInProgressScheduledFunctions();
  const s = await as("alice").query(api.migrations.status, {});
  const last = progress[progress.length - 1];
  if (!last || last.processed !== s.processed)
    progress.push({
      state: s.state,
      processed: s.processed,
      changed: s.changed,
      percent: s.percent ?? "",
    });
  if (s.state !== "inProgress") break;
}
printTable("  progress", progress);
const final = await as("alice").query(api.migrations.status, {});
console.log(
  `  final: ${final.state}, ${final.changed} changed (dry run predicted ${report.wouldChange})${final.warnings.length ? `; warnings: ${final.warnings.join("; ")}` : ""}`,
);
const pendingAfter = await t.query(internal.migrations.pending, {});
console.log(
  `  pending migrations: ${pendingBefore.length} → ${pendingAfter.length}`,
);
const second = await t.mutation(internal.migrations.runPending, {});
console.log(
  `  runPending again after the next deploy: started=${second.started ?? "nothing"}`,
);
flushLogs(3);

console.log("\nDone: every step above ran through the app's own functions.");
process.exit(0); // scheduled sweeps (timers) would otherwise keep the process alive
