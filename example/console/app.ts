/**
 * The example app (convex/) on convex-test, in this process, seeded with the
 * demo's production day: the same calls `npm run demo` makes, through the
 * app's own functions, without the printing.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { convexTest } from "convex-test";
import { api, internal } from "../../convex/_generated/api.js";
import schema from "../../convex/schema.js";
import authzSchema from "../../src/authz/component/schema.js";
import auditLogSchema from "../../src/auditLog/component/schema.js";
import migrationsSchema from "../../src/migrations/component/schema.js";
import rateLimiterSchema from "../../src/rateLimiter/component/schema.js";
import { modulesFromDir } from "../../bench/harness.js";

/** The repository root. */
export const root = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
);

/** A fresh example app on convex-test with the four components registered. */
export function createExampleApp() {
  const t = convexTest(schema, modulesFromDir(path.join(root, "convex")));
  const components = [
    ["authz", authzSchema],
    ["auditLog", auditLogSchema],
    ["migrations", migrationsSchema],
    ["rateLimiter", rateLimiterSchema],
  ] as const;
  for (const [name, componentSchema] of components)
    t.registerComponent(
      name,
      componentSchema,
      modulesFromDir(path.join(root, "src", name, "component")),
    );
  return t;
}

/** The example app's convex-test instance. */
export type ExampleApp = ReturnType<typeof createExampleApp>;

const refused = () => undefined;

/**
 * The demo's production day (example/demo.ts steps 1–9 and the 2,000
 * legacy posts of step 10), leaving the migration for the console to run.
 */
export async function seedProductionDay(
  t: ExampleApp,
  opts: { legacyPosts?: number } = {},
) {
  const as = (subject: string) => t.withIdentity({ subject });
  await t.mutation(internal.init.seed, {});
  for (const who of ["erin", "frank", "grace", "heidi"])
    await as(who)
      .mutation(api.users.signUp, {
        name: who,
        email: `${who}@example.com`,
        team: "acme",
        pin: "4321",
      })
      .catch(refused);
  const globexPosts = await as("carol").query(api.posts.list, {
    team: "globex",
  });
  await as("bob")
    .mutation(api.posts.edit, {
      team: "globex",
      postId: globexPosts[0].id,
      body: "defaced",
    })
    .catch(refused);
  for (const pin of ["0000", "1111", "2222", "1234"])
    await as("bob").mutation(api.account.checkPin, { pin });
  const users = await t.run((ctx) => ctx.db.query("users").collect());
  const bob = users.find((u) => u.userId === "bob")!;
  const carol = users.find((u) => u.userId === "carol")!;
  await as("sam").mutation(api.admin.setUserRole, {
    userId: bob._id,
    role: "support",
    reason: "SUP-1234 Bob joins the support rota",
  });
  await as("alice").mutation(api.admin.removeSpam, {
    team: "acme",
    authorId: "dave",
    reason: "MOD-77 spam reported by Bob",
  });
  await as("sam").mutation(api.admin.setUserRole, {
    userId: carol._id,
    role: "support",
    reason: "SUP-1240 Carol covers the weekend rota",
  });
  await t.mutation(internal.auditJobs.seal, {});
  const ops = await as("alice").query(api.admin.auditOperations, {
    paginationOpts: { numItems: 20, cursor: null },
  });
  const roleOp = ops.page.find(
    (o) =>
      o.functionName === "admin:setUserRole" && o.reason.startsWith("SUP-1234"),
  );
  if (roleOp)
    await as("alice").mutation(api.admin.revertOperation, {
      operationId: roleOp.operationId,
      reason: "SUP-1235 rota change was a mistake",
    });
  const legacy = opts.legacyPosts ?? 2000;
  await t.run(async (ctx) => {
    for (let i = 0; i < legacy; i++)
      await ctx.db.insert("posts", {
        teamId: i % 2 ? "acme" : "globex",
        authorId: i % 2 ? "bob" : "carol",
        title: `Post ${i}`,
        body: "lorem ipsum ".repeat(1 + (i % 7)).trim(),
        published: true,
      });
  });
  await t.mutation(internal.auditJobs.seal, {});
}
