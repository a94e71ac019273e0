/**
 * The quality bar: every Convex function, public or internal, in every
 * component and in the example app, declares `args` and `returns` validators.
 */
import opskit from "convex-opskit/test";
import { expect, test } from "vitest";

type Registered = { exportArgs?: () => string; exportReturns?: () => string };

const appModules = import.meta.glob("../../convex/**/*.ts");
const sets: Record<string, Record<string, () => Promise<unknown>>> = {
  authz: opskit.authz.modules,
  auditLog: opskit.auditLog.modules,
  migrations: opskit.migrations.modules,
  rateLimiter: opskit.rateLimiter.modules,
  "example app": appModules,
};

/** Function modules only: not generated code, schemas or convex.config.ts. */
const isFunctionModule = (file: string) => {
  const base = file.split("/").pop()!;
  return (
    !file.includes("/_generated/") &&
    base !== "schema.ts" &&
    base.split(".").length === 2
  );
};

test.each(Object.entries(sets))(
  "%s: every function has args and returns validators",
  async (_name, modules) => {
    const missing: string[] = [];
    let count = 0;
    for (const [file, load] of Object.entries(modules)) {
      if (!isFunctionModule(file)) continue;
      for (const [name, fn] of Object.entries(
        (await load()) as Record<string, Registered>,
      )) {
        if (
          !fn ||
          typeof fn.exportArgs !== "function" ||
          typeof fn.exportReturns !== "function"
        )
          continue;
        count++;
        if (fn.exportReturns() === "null")
          missing.push(`${file}:${name} has no returns validator`);
        if ((JSON.parse(fn.exportArgs()) as { type: string }).type !== "object")
          missing.push(`${file}:${name} has no args validator`);
      }
    }
    expect(count).toBeGreaterThan(3);
    expect(missing).toEqual([]);
  },
);
