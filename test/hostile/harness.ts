/// <reference types="vite/client" />
/**
 * The generated attack's machinery: every Convex function of the four
 * components and of the example app, found by walking their modules (so a
 * function added later is attacked without editing the test), a seeded
 * example deployment, and a snapshot of every table (app and components,
 * scheduled functions included) to prove a refused call wrote nothing.
 */
import { queryGeneric } from "convex/server";
import { ConvexError, convexToJson, v, type Value } from "convex/values";
import opskit from "convex-opskit/test";
import { api, internal } from "../../convex/_generated/api";
import { exampleApp } from "../example/setup";
import type { IdPool, ValidatorJson } from "./validatorJson";

/** A Convex function found in a module. */
export type Found = {
  /** `""` for the example app, else the component's name. */
  component: string;
  /** `module:export`, as a function path. */
  path: string;
  kind: "query" | "mutation" | "action";
  isPublic: boolean;
  args: ValidatorJson;
  /** `null` when the function has no `returns` validator. */
  returns: ValidatorJson | null;
};

type Registered = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
  exportArgs?: () => string;
  exportReturns?: () => string;
};

const componentModules = import.meta.glob("../../src/*/component/**/*.ts");
const appModules = import.meta.glob("../../convex/**/*.ts");

async function walk(
  modules: Record<string, () => Promise<unknown>>,
  locate: (file: string) => { component: string; module: string } | null,
): Promise<Found[]> {
  const found: Found[] = [];
  for (const [file, load] of Object.entries(modules)) {
    const base = file.split("/").pop()!;
    if (
      file.includes("/_generated/") ||
      base === "schema.ts" ||
      base.split(".").length > 2
    )
      continue;
    const where = locate(file);
    if (where === null) continue;
    const mod = (await load()) as Record<string, Registered>;
    for (const [name, fn] of Object.entries(mod)) {
      if (!fn || typeof fn.exportArgs !== "function") continue;
      found.push({
        component: where.component,
        path: `${where.module}:${name}`,
        kind: fn.isQuery ? "query" : fn.isMutation ? "mutation" : "action",
        isPublic: fn.isPublic === true,
        args: JSON.parse(fn.exportArgs()) as ValidatorJson,
        returns: JSON.parse(fn.exportReturns!()) as ValidatorJson | null,
      });
    }
  }
  return found;
}

/** Every function of every component (public and internal). */
export const componentFunctions: Found[] = await walk(
  componentModules,
  (file) => {
    const m = file.match(/src\/([^/]+)\/component\/(.+)\.ts$/);
    return m ? { component: m[1], module: m[2] } : null;
  },
);

/** Every function of the example app (public and internal). */
export const appFunctions: Found[] = await walk(appModules, (file) => {
  const m = file.match(/convex\/(.+)\.ts$/);
  return m ? { component: "", module: m[1] } : null;
});

/** The snapshot module added to every component of the attacked deployment. */
const DUMP = "_hostileDump";

function dumpQuery(tables: string[]) {
  return queryGeneric({
    args: {},
    returns: v.string(),
    handler: async (ctx) => {
      const out: Record<string, unknown> = {};
      for (const table of tables)
        out[table] = convexToJson(
          (await ctx.db.query(table).collect()) as Value,
        );
      out._scheduled_functions = convexToJson(
        (await ctx.db.system.query("_scheduled_functions").collect()) as Value,
      );
      return JSON.stringify(out);
    },
  });
}

const COMPONENTS = {
  authz: opskit.authz,
  auditLog: opskit.auditLog,
  migrations: opskit.migrations,
  rateLimiter: opskit.rateLimiter,
};

/** The example app's tables. */
const APP_TABLES = ["users", "teams", "posts"];

/**
 * The example deployment under production limits, seeded and used a little
 * (an audited change, a grant, a migration run, a rate limit), so every
 * component has rows whose ids the generator can pick.
 */
export async function attackedDeployment() {
  const t = await exampleApp();
  for (const [name, c] of Object.entries(COMPONENTS)) {
    const root = Object.keys(c.modules)
      .find((p) => p.includes("_generated"))!
      .split("_generated", 2)[0];
    t.registerComponent(name, c.schema, {
      ...c.modules,
      [`${root}${DUMP}.ts`]: async () => ({
        dump: dumpQuery(Object.keys(c.schema.tables)),
      }),
    });
  }
  await t.mutation(internal.init.seed, {});
  const alice = t.withIdentity({ subject: "alice" });
  const sam = t.withIdentity({ subject: "sam" });
  const bob = t.withIdentity({ subject: "bob" });
  const reason = "SUP-1 seeding the attacked deployment";
  await alice.mutation(api.ops.grantRole, {
    userId: "bob",
    role: "moderator",
    scope: "team:acme",
    reason,
  });
  await bob.mutation(api.posts.create, {
    team: "acme",
    title: "hello",
    body: "a body",
  });
  await alice.mutation(api.ops.rateLimitReset, { name: "signUp", reason });

  /** Every table of the app and of each component, as JSON text. */
  async function snapshot(): Promise<string> {
    const parts: string[] = [
      await t.run(async (ctx) => {
        const out: Record<string, unknown> = {};
        for (const table of APP_TABLES)
          out[table] = convexToJson(
            (await ctx.db.query(table as "users").collect()) as Value,
          );
        out._scheduled_functions = convexToJson(
          (await ctx.db.system
            .query("_scheduled_functions")
            .collect()) as Value,
        );
        return JSON.stringify(out);
      }),
    ];
    for (const name of Object.keys(COMPONENTS))
      parts.push(
        (await (t.query as (ref: string, args: object) => Promise<unknown>)(
          `function://${name};${DUMP}:dump`,
          {},
        )) as string,
      );
    return parts.join("\n");
  }

  /** Ids of every table, real rows and ones that never existed. */
  async function idPool(): Promise<IdPool> {
    const pool: IdPool = {};
    for (const text of (await snapshot()).split("\n")) {
      const tables = JSON.parse(text) as Record<string, Array<{ _id: string }>>;
      for (const [table, docs] of Object.entries(tables)) {
        if (table.startsWith("_")) continue;
        pool[table] = [...docs.slice(0, 3).map((d) => d._id), `99999${table}`];
      }
    }
    return pool;
  }

  return { t, alice, sam, bob, snapshot, idPool };
}

/** How a call ended, classified for the property. */
export type Outcome =
  | { kind: "ok" }
  | { kind: "coded"; code: string; data: Record<string, unknown> }
  | { kind: "validator"; message: string }
  /** The migrations runner's protocol with its component (a dry run ends by throwing its result so nothing commits). */
  | { kind: "protocol"; protocol: string }
  | { kind: "uncoded"; error: unknown };

/** Runs a call and classifies how it ended. */
export async function outcome(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return { kind: "ok" };
  } catch (e) {
    if (e instanceof ConvexError) {
      const data = e.data as Record<string, unknown> | undefined;
      if (data && typeof data === "object" && typeof data.code === "string")
        return { kind: "coded", code: data.code, data };
      if (
        data &&
        typeof data === "object" &&
        typeof data.kind === "string" &&
        data.kind.startsWith("opskit.migrations.")
      )
        return { kind: "protocol", protocol: data.kind };
      return { kind: "uncoded", error: e };
    }
    const message = e instanceof Error ? e.message : String(e);
    if (/^(ArgumentValidationError: )?Validator error/.test(message))
      return { kind: "validator", message };
    return { kind: "uncoded", error: e };
  }
}
