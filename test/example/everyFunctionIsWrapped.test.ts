/**
 * Every public query, mutation and action of the example app must be built
 * with the authz builders (or auditLog's adminMutation on top of them). This
 * walks every exported function, calls each public one as an anonymous
 * client would, with arguments that pass its validator, and requires
 * UNAUTHENTICATED. A function built with the raw `query`/`mutation` builders
 * (which eslint also forbids) would run instead, and fail this test.
 */
import { makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { describe, expect, test } from "vitest";
import { internal } from "../../convex/_generated/api";
import { exampleApp, modules } from "./setup";

type Json = {
  type: string;
  value?: unknown;
  tableName?: string;
  keys?: Json;
  values?: { fieldType: Json };
};
type Registered = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  exportArgs: () => string;
};

/** A value that passes the validator, built from its JSON form. */
function sample(json: Json, ids: Record<string, string>): unknown {
  switch (json.type) {
    case "string":
      return "TEST-1 a generated value";
    case "number":
      return 1;
    case "bigint":
      return 1n;
    case "boolean":
      return false;
    case "null":
      return null;
    case "any":
      return null;
    case "literal":
      return json.value;
    case "id":
      return ids[json.tableName!];
    case "array":
      return [];
    case "record":
      return {};
    case "union":
      return sample((json.value as Json[])[0], ids);
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(
        json.value as Record<string, { fieldType: Json; optional: boolean }>,
      ))
        if (!f.optional)
          out[k] =
            k === "paginationOpts"
              ? { numItems: 1, cursor: null }
              : sample(f.fieldType, ids);
      return out;
    }
    default:
      throw new Error(`no sample for validator type ${json.type}`);
  }
}

const publicFunctions: Array<{
  path: string;
  kind: "query" | "mutation" | "action";
  args: Json;
}> = [];
for (const [file, load] of Object.entries(modules)) {
  const base = file.split("/").pop()!;
  // Function modules only: not generated code, the schema, or convex.config.ts (two dots).
  if (
    file.includes("/_generated/") ||
    !file.endsWith(".ts") ||
    base === "schema.ts" ||
    base.split(".").length > 2
  )
    continue;
  const mod = (await load()) as Record<string, Registered>;
  const modulePath = file.replace(/^.*\/convex\//, "").replace(/\.ts$/, "");
  for (const [name, fn] of Object.entries(mod)) {
    if (!fn || typeof fn.exportArgs !== "function" || !fn.isPublic) continue;
    const kind = fn.isQuery ? "query" : fn.isMutation ? "mutation" : "action";
    publicFunctions.push({
      path: `${modulePath}:${name}`,
      kind,
      args: JSON.parse(fn.exportArgs()),
    });
  }
}

describe("every public function of the example app requires a signed-in caller", () => {
  test("the walk found the app's public functions", () => {
    expect(publicFunctions.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        "posts:create",
        "users:signUp",
        "admin:setUserRole",
        "admin:verifyAudit",
      ]),
    );
  });

  test.each(publicFunctions.map((f) => [f.path, f] as const))(
    "%s",
    async (_path, f) => {
      const t = await exampleApp();
      await t.mutation(internal.init.seed, {});
      const ids = await t.run(async (ctx) => ({
        users: (await ctx.db.query("users").first())!._id as string,
        posts: (await ctx.db.query("posts").first())!._id as string,
        teams: (await ctx.db.query("teams").first())!._id as string,
      }));
      const args = sample(f.args, ids) as Record<string, unknown>;
      type Args = Record<string, unknown>;
      const call =
        f.kind === "query"
          ? t.query(makeFunctionReference<"query", Args>(f.path), args)
          : f.kind === "mutation"
            ? t.mutation(makeFunctionReference<"mutation", Args>(f.path), args)
            : t.action(makeFunctionReference<"action", Args>(f.path), args);
      const error = await call.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, `${f.path} ran for an anonymous caller`).toBeInstanceOf(
        ConvexError,
      );
      expect((error as ConvexError<{ code: string }>).data.code).toBe(
        "UNAUTHENTICATED",
      );
    },
  );
});
