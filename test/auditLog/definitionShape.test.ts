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
import { AuditLog } from "convex-opskit/auditLog";
import { components, errorOf } from "../helpers.js";
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

/**
 * `new AuditLog(component, options)` from untyped code: a `redact` entry or
 * `redactArgs` given as a string was iterated character by character, so
 * `redact: { users: "password" }` redacted fields named "p", "a", "s"… and
 * stored the password in the log in clear; a `reason.pattern` that is not a
 * RegExp failed every call with a TypeError; a `reason.minLength` over the
 * longest reason accepted refused every call. Each is `INVALID_ARGUMENT`
 * when the module loads.
 */
describe("AuditLog options of the wrong shape", () => {
  for (const [options, message] of [
    [
      { redact: { users: "password" } },
      "auditLog: redact.users must be an array of field paths; got string",
    ],
    [
      { redact: { users: ["password", 7] } },
      "auditLog: redact.users must be an array of field paths; got number in it",
    ],
    [
      { redactArgs: "password" },
      "auditLog: redactArgs must be an array of argument names; got string",
    ],
    [
      { reason: { pattern: "SUP-\\d+" } },
      "auditLog: reason.pattern must be a RegExp; got string",
    ],
    [
      { reason: { minLength: 2001 } },
      "auditLog: reason.minLength (2001) is over the longest reason accepted (2000)",
    ],
  ] as const)
    test(`${JSON.stringify(options)}: INVALID_ARGUMENT`, async () => {
      const err = await errorOf(
        () => new AuditLog(components.auditLog, options as never),
      );
      expect(err.code).toBe("INVALID_ARGUMENT");
      expect(err.message).toBe(message);
    });

  test("the options of the docs still construct", () => {
    const log = new AuditLog(components.auditLog, {
      redact: { users: ["passwordHash", "profile.ssn"] },
      redactArgs: ["token"],
      reason: { minLength: 2000, pattern: /SUP-\d+/ },
    });
    expect(log.redactedPaths("users")).toEqual(["passwordHash", "profile.ssn"]);
  });
});
