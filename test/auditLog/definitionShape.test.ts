/**
 * Independent attack on issue 13's "coded INVALID_ARGUMENT for every
 * definition-time mistake" in the auditLog client: an admin mutation
 * definition that is not an object of `args`, `tables` and `handler`
 * (untyped JavaScript, a `def` built at runtime) threw a raw `TypeError`
 * ("Cannot use 'in' operator…", "Cannot read properties of undefined")
 * when the module loaded. Each is now `INVALID_ARGUMENT` naming the
 * definition, as the zod builder's shape check already was.
 */
import { describe, expect, test } from "vitest";
import { errorOf } from "../helpers.js";
import { auditLog } from "./app.js";

const adminMutation = auditLog.adminMutation(async () => ({
  actorId: "svc",
  actorKind: "service",
}));

describe("admin mutation definitions of the wrong shape", () => {
  const handler = async () => null;
  for (const [def, problem] of [
    [undefined, "takes { args, tables, handler, ... }; got undefined"],
    [null, "takes { args, tables, handler, ... }; got null"],
    [{ tables: ["users"], handler }, "needs `args`: an object of validators"],
    [
      { args: "x", tables: ["users"], handler },
      "needs `args`: an object of validators",
    ],
    [{ args: {}, handler }, "needs `tables`: the tables it writes"],
    [
      { args: {}, tables: "users", handler },
      "needs `tables`: the tables it writes",
    ],
    [{ args: {}, tables: ["users"] }, "needs a `handler` function"],
  ] as const)
    test(`${JSON.stringify(def)}: INVALID_ARGUMENT`, async () => {
      const err = await errorOf(() => adminMutation(def as never));
      expect(err.code).toBe("INVALID_ARGUMENT");
      expect(err.message).toBe(`auditLog: admin mutation ${problem}`);
    });

  test("a named definition is named in the message", async () => {
    const err = await errorOf(() =>
      adminMutation({ name: "setPlan", tables: ["users"], handler } as never),
    );
    expect(err.message).toBe(
      "auditLog: admin mutation setPlan needs `args`: an object of validators",
    );
  });
});
