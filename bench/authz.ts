/**
 * authz benchmark: documents read per authorized request and documents
 * written per grant/revoke, for convex-opskit/authz and @djpanda/convex-authz
 * on the same scenarios, same process. Run with `npx tsx bench/authz.ts`.
 * Figures come from `ctx.meta.getTransactionMetrics()` (component reads and
 * writes count toward the calling transaction); timings are informational.
 */
import {
  Authz as DjAuthz,
  definePermissions,
  defineRoles,
} from "@djpanda/convex-authz";
import { convexTest } from "convex-test";
import {
  anyApi,
  componentsGeneric,
  defineSchema,
  mutationGeneric,
  queryGeneric,
} from "convex/server";
import { v } from "convex/values";
import { Authz, userIdFromSubject } from "../src/authz/client.js";
import { silenceLogs } from "../src/shared/log.js";
import type { ComponentApi } from "../src/authz/component/_generated/component.js";
import authzSchema from "../src/authz/component/schema.js";
import { appModules, benchSetup, median, printTable } from "./harness.js";

const sides = benchSetup("authz", "@djpanda/convex-authz/dist/component");
const SIZES = [1, 10, 20, 50] as const;
const CHECKS = [1, 20] as const;
const perms = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

/* eslint-disable @typescript-eslint/no-explicit-any -- the bench drives both libraries through untyped app functions */
const components = componentsGeneric() as any;

function ourAuthz(extra: string[] = []) {
  const roles: Record<string, string[]> = {};
  for (const n of SIZES) roles[`r${n}`] = perms(n).map((p) => `docs.${p}`);
  roles.r1 = [...roles.r1, ...extra];
  return new Authz(components.authz as ComponentApi, {
    roles,
    permissions: [...perms(50).map((p) => `docs.${p}`), "docs.extra"],
    // The bench grants to subjects and calls withIdentity({ subject }).
    getUserId: userIdFromSubject,
  });
}

function djAuthz(extra: string[] = []) {
  const permissions = definePermissions({
    docs: Object.fromEntries([...perms(50), "extra"].map((p) => [p, true])),
  });
  const roles: Record<string, Record<string, string[]>> = {};
  for (const n of SIZES) roles[`r${n}`] = { docs: perms(n) };
  roles.r1 = { docs: [...perms(1), ...extra] };
  return new DjAuthz(components.djAuthz, {
    permissions,
    roles: defineRoles(permissions, roles as any),
    tenantId: "bench",
  } as any);
}

const ours = ourAuthz();
const oursEdited = ourAuthz(["docs.extra"]);
const dj = djAuthz();
const djEdited = djAuthz(["extra"]);
const userQuery = ours.query(queryGeneric);

const metrics = async (ctx: any) => await ctx.meta.getTransactionMetrics();

/** A grant or revoke of `userId`'s `role` (`change`), returning the documents it wrote. */
const writesOf = (
  change: (ctx: any, a: { userId: string; role: string }) => Promise<unknown>,
) =>
  mutationGeneric({
    args: { userId: v.string(), role: v.string() },
    returns: v.number(),
    handler: async (ctx, a) => {
      await change(ctx, a);
      return (await metrics(ctx)).documentsWritten.used;
    },
  });

const benchModule = {
  oursGrant: writesOf((ctx, a) =>
    ours.grant(ctx, { userId: a.userId, role: a.role }),
  ),
  oursRevoke: writesOf((ctx, a) =>
    ours.revoke(ctx, { userId: a.userId, role: a.role }),
  ),
  oursCheck: userQuery({
    args: { permissions: v.array(v.string()) },
    returns: v.object({ reads: v.number(), allowed: v.number() }),
    handler: async (ctx, a) => {
      let allowed = 0;
      for (const p of a.permissions) if (await ctx.authz.can(p)) allowed++;
      return { reads: (await metrics(ctx)).documentsRead.used, allowed };
    },
  }),
  oursEditedCan: queryGeneric({
    args: { userId: v.string() },
    returns: v.boolean(),
    handler: (ctx, a) =>
      oursEdited.can(ctx, { userId: a.userId, permission: "docs.extra" }),
  }),
  djGrant: writesOf((ctx, a) => dj.assignRole(ctx, a.userId, a.role)),
  djRevoke: writesOf((ctx, a) => dj.revokeRole(ctx, a.userId, a.role)),
  djCheck: queryGeneric({
    args: { userId: v.string(), permissions: v.array(v.string()) },
    returns: v.object({ reads: v.number(), allowed: v.number() }),
    handler: async (ctx, a) => {
      let allowed = 0;
      for (const p of a.permissions)
        if (await dj.can(ctx as any, a.userId, p as never)) allowed++;
      return { reads: (await metrics(ctx)).documentsRead.used, allowed };
    },
  }),
  djEditedCan: queryGeneric({
    args: { userId: v.string() },
    returns: v.boolean(),
    handler: (ctx, a) => djEdited.can(ctx as any, a.userId, "docs:extra"),
  }),
};
/* eslint-enable @typescript-eslint/no-explicit-any */

const djSchema = await sides.theirSchema();

function setup() {
  const t = convexTest(defineSchema({}), appModules({ bench: benchModule }));
  t.registerComponent("authz", authzSchema, sides.ourModules());
  t.registerComponent("djAuthz", djSchema, sides.theirModules());
  return t;
}

const api = anyApi.bench;

async function timed<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

let running: Promise<void> | null = null;

/** Runs the whole suite once and prints its tables (importing the module runs it). */
export default function main(): Promise<void> {
  running ??= run();
  return running;
}

async function run(): Promise<void> {
  // grant/revoke log lines would drown the tables.
  const restoreLogs = silenceLogs();
  try {
    await suite();
  } finally {
    restoreLogs();
  }
}

async function suite(): Promise<void> {
  const t = setup();
  const readRows: Array<Record<string, string | number>> = [];
  const writeRows: Array<Record<string, string | number>> = [];

  for (const n of [1, 10, 50]) {
    const user = `reader${n}`;
    const oursGrant = await t.mutation(api.oursGrant, {
      userId: user,
      role: `r${n}`,
    });
    const djGrant = await t.mutation(api.djGrant, {
      userId: user,
      role: `r${n}`,
    });
    void oursGrant;
    void djGrant;
    for (const checks of CHECKS) {
      const list = Array.from({ length: checks }, (_, i) => perms(n)[i % n]);
      const oursRuns: number[] = [];
      const djRuns: number[] = [];
      let o = { reads: 0, allowed: 0 };
      let d = { reads: 0, allowed: 0 };
      for (let r = 0; r < 5; r++) {
        const a = await timed(() =>
          t.withIdentity({ subject: user }).query(api.oursCheck, {
            permissions: list.map((p) => `docs.${p}`),
          }),
        );
        const b = await timed(() =>
          t.query(api.djCheck, {
            userId: user,
            permissions: list.map((p) => `docs:${p}`),
          }),
        );
        o = a.value;
        d = b.value;
        oursRuns.push(a.ms);
        djRuns.push(b.ms);
      }
      if (o.allowed !== checks || d.allowed !== checks)
        throw new Error(
          `bench scenario broken: allowed ${o.allowed}/${d.allowed} of ${checks}`,
        );
      readRows.push({
        "perms/user": n,
        "checks/request": checks,
        "opskit reads": o.reads,
        "djpanda reads": d.reads,
        "reads ratio (dj/opskit)": d.reads / Math.max(o.reads, 1),
        "opskit ms": median(oursRuns),
        "djpanda ms": median(djRuns),
      });
    }
  }

  for (const n of [1, 20, 50]) {
    const user = `writer${n}`;
    const og = await timed(() =>
      t.mutation(api.oursGrant, { userId: user, role: `r${n}` }),
    );
    const dg = await timed(() =>
      t.mutation(api.djGrant, { userId: user, role: `r${n}` }),
    );
    const or = await timed(() =>
      t.mutation(api.oursRevoke, { userId: user, role: `r${n}` }),
    );
    const dr = await timed(() =>
      t.mutation(api.djRevoke, { userId: user, role: `r${n}` }),
    );
    writeRows.push({
      "role perms": n,
      "opskit grant writes": og.value,
      "djpanda grant writes": dg.value,
      "opskit revoke writes": or.value,
      "djpanda revoke writes": dr.value,
      "opskit grant ms": og.ms,
      "djpanda grant ms": dg.ms,
    });
  }

  // A role edited in code after it was granted: does the holder get it?
  await t.mutation(api.oursGrant, { userId: "holder", role: "r1" });
  await t.mutation(api.djGrant, { userId: "holder", role: "r1" });
  const oursSees = await t.query(api.oursEditedCan, { userId: "holder" });
  const djSees = await t.query(api.djEditedCan, { userId: "holder" });

  printTable(
    "authz: documents read per request (user holds one role with N permissions; handler makes K checks)",
    readRows,
  );
  printTable(
    "authz: documents written per grant / revoke of one role",
    writeRows,
  );
  printTable("authz: role edited in code after being granted", [
    {
      library: "convex-opskit/authz",
      "existing holder gets new permission": oursSees ? "yes" : "no",
    },
    {
      library: "@djpanda/convex-authz",
      "existing holder gets new permission": djSees
        ? "yes"
        : "no (needs recompute/sync)",
    },
  ]);
}

await main();
