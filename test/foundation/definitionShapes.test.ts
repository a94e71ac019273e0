/**
 * Issue 13, "coded INVALID_ARGUMENT for every definition-time mistake": a
 * constructor's config or a builder's definition of the wrong shape (untyped
 * JavaScript, a config built at runtime) fails when the module loads with
 * `INVALID_ARGUMENT`, naming what was expected and what arrived (`shown`),
 * never with a plain TypeError, a string read character by character
 * (limits or services named "0", "1", …) or a definition accepted that fails
 * only when run. Generated values, fixed seed.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AuditLog } from "convex-opskit/auditLog";
import { Authz, defineRules } from "convex-opskit/authz";
import { Migrations } from "convex-opskit/migrations";
import { RateLimiter } from "convex-opskit/rateLimiter";
import { makeFunctionReference } from "convex/server";
import { isOpskitError, type OpskitErrorData, shown } from "../internal.js";
import { components } from "../helpers.js";

const FC = { seed: 1313, numRuns: 60 };

/** What `call` threw synchronously, checked to be a coded INVALID_ARGUMENT. */
function definitionErrorOf(call: () => unknown): OpskitErrorData {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error("expected the definition to fail");
  if (!isOpskitError(error, "INVALID_ARGUMENT")) throw error;
  return error.data;
}

/** Asserts that `call(value)` fails with exactly `message(value)` for every generated value. */
function refuses<T>(
  values: fc.Arbitrary<T>,
  call: (value: T) => unknown,
  message: (value: T) => string,
) {
  fc.assert(
    fc.property(values, (value) => {
      const data = definitionErrorOf(() => call(value));
      expect(data.code).toBe("INVALID_ARGUMENT");
      expect(data.message).toBe(message(value));
    }),
    FC,
  );
}

/** Anything that is not an object: null, strings, numbers, booleans, arrays. */
const notAnObject: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 80 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 4 }),
);
/** Anything but an array (nor undefined). */
const notAnArray: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 80 }),
  fc.double(),
  fc.boolean(),
  fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.integer(), {
    maxKeys: 3,
  }),
);
/** Anything but a function (nor undefined). */
const notAFunction: fc.Arbitrary<unknown> = fc.oneof(
  notAnObject,
  fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.integer(), {
    maxKeys: 3,
  }),
);
/** Objects without the field `missing` (each other field a number). */
const objectWithout = (missing: string) =>
  fc.dictionary(
    fc.stringMatching(/^[a-z]{1,8}$/).filter((k) => k !== missing),
    fc.integer(),
    { maxKeys: 3 },
  );

describe("AuditLog options", () => {
  test("options that are not an object (null, a string, an array...)", () =>
    refuses(
      notAnObject,
      (options) => new AuditLog(components.auditLog, options as never),
      (options) =>
        `auditLog: new AuditLog(component, options) takes an options object { redact, redactArgs, reason, retention }; got ${shown(options)}`,
    ));

  for (const [field, shape] of [
    ["retention", "{ maxAgeMs }"],
    ["reason", "{ minLength, pattern }"],
    ["redact", "{ table: field paths }"],
  ] as const)
    test(`${field} that is not an object`, () =>
      refuses(
        notAnObject,
        (value) =>
          new AuditLog(components.auditLog, { [field]: value } as never),
        (value) =>
          `auditLog: ${field} must be an object ${shape}; got ${shown(value)}`,
      ));

  test("retention without a positive maxAgeMs names what arrived", () =>
    refuses(
      objectWithout("maxAgeMs"),
      (retention) => new AuditLog(components.auditLog, { retention } as never),
      () => "auditLog: retention.maxAgeMs must be positive; got nothing",
    ));
});

describe("new Authz config", () => {
  const roles = { member: ["posts.read"] };
  const authz = (extra: Record<string, unknown>) =>
    new Authz(components.authz, { roles, ...extra } as never);

  test("permissions that are not an array (a string is not read as its characters)", () =>
    refuses(
      notAnArray,
      (permissions) => authz({ permissions }),
      (permissions) =>
        `authz: permissions must be an array of permission names; got ${shown(permissions)}`,
    ));

  test('services that are not an object (a string is not service "0")', () =>
    refuses(
      notAnObject,
      (services) => authz({ services }),
      (services) =>
        `authz: services must be an object of service names to { key, roles }; got ${shown(services)}`,
    ));

  test("getUserId that is not a function", () =>
    refuses(
      notAFunction,
      (getUserId) => authz({ getUserId }),
      (getUserId) =>
        `authz: getUserId must be a function of ctx returning the user id or null; got ${shown(getUserId)}`,
    ));

  test("rules not made by defineRules (not an object, or no tables)", () =>
    refuses(
      fc.oneof(notAnObject, objectWithout("tables")),
      (rules) => authz({ rules }),
      (rules) =>
        `authz: rules must be made by defineRules({ table: rules, ... }); got ${shown(rules)}`,
    ));

  test("a table's rule that is not a function, in defineRules or in rules", () =>
    refuses(
      fc.record({
        operation: fc.constantFrom("read", "insert", "modify", "delete"),
        rule: notAFunction,
      }),
      ({ operation, rule }) => {
        const tables = { t: { read: () => true, [operation]: rule } };
        // Both ways in: defineRules, and rules built by hand.
        expect(definitionErrorOf(() => authz({ rules: { tables } }))).toEqual(
          definitionErrorOf(() => defineRules(tables as never)),
        );
        return defineRules(tables as never);
      },
      ({ operation, rule }) =>
        `authz: rules for table "t": ${operation} must be a function of (ctx, ...) returning a boolean; got ${shown(rule)}`,
    ));

  test("a well-formed config still constructs", () => {
    const made = authz({
      permissions: ["posts.read", "posts.write"],
      services: { bot: { key: "k", roles: ["member"] } },
      getUserId: async () => null,
      rules: defineRules({
        posts: { read: () => true },
        users: "unrestricted",
      } as never),
    });
    expect(made.roleNames()).toEqual(["member"]);
  });
});

describe("new RateLimiter limits and options", () => {
  test('limits that are not an object (not limits named "0", "1"...)', () =>
    refuses(
      notAnObject,
      (limits) => new RateLimiter(components.rateLimiter, limits as never),
      (limits) =>
        `rateLimiter: new RateLimiter(component, limits) takes an object of limit names to configs; got ${shown(limits)}`,
    ));

  test("a limit's config that is not an object", () =>
    refuses(
      notAnObject,
      (config) =>
        new RateLimiter(components.rateLimiter, { send: config } as never),
      (config) =>
        `Rate limit "send": config must be an object { kind, rate, period, ... } (got ${shown(config)})`,
    ));

  test("options that are not an object, or an unknown contention policy", () => {
    refuses(
      notAnObject,
      (options) =>
        new RateLimiter(components.rateLimiter, {}, options as never),
      (options) =>
        `rateLimiter: new RateLimiter(component, limits, options) takes an options object { onContention }; got ${shown(options)}`,
    );
    refuses(
      notAnObject.filter((p) => p !== "deny" && p !== "allow" && p !== "throw"),
      (onContention) =>
        new RateLimiter(components.rateLimiter, {}, {
          onContention,
        } as never),
      (onContention) =>
        `rateLimiter: options.onContention must be "deny", "allow" or "throw"; got ${shown(onContention)}`,
    );
  });
});

describe("migrations.define and migrations.runner", () => {
  const migrations = new Migrations(components.migrations);
  const migrateOne = () => {};

  test("a definition without a table name (missing, or not a string)", () =>
    refuses(
      fc.oneof(
        fc.constant(undefined),
        fc.constant(""),
        notAnObject.filter((t) => typeof t !== "string"),
      ),
      (table) => migrations.define({ table, migrateOne } as never),
      (table) =>
        `migrations.define(...): \`table\` must be the name of the table to walk; got ${shown(table)}`,
    ));

  test("objects missing table: {} is not accepted", () =>
    refuses(
      objectWithout("table"),
      (def) => migrations.define(def as never),
      () =>
        "migrations.define(...): `table` must be the name of the table to walk; got nothing",
    ));

  test("a definition without a migrateOne function", () =>
    refuses(
      fc.oneof(fc.constant(undefined), notAFunction),
      (fn) => migrations.define({ table: "users", migrateOne: fn } as never),
      (fn) =>
        `migrations.define({ table: "users" }): \`migrateOne\` must be a function of (ctx, doc); got ${shown(fn)}`,
    ));

  test("a customRange that is not a function, an onError not stop or skip", () => {
    refuses(
      notAFunction,
      (customRange) =>
        migrations.define({
          table: "users",
          migrateOne,
          customRange,
        } as never),
      (customRange) =>
        `migrations.define({ table: "users" }): \`customRange\` must be a function of the table's query; got ${shown(customRange)}`,
    );
    refuses(
      notAnObject.filter((e) => e !== "stop" && e !== "skip"),
      (onError) =>
        migrations.define({ table: "users", migrateOne, onError } as never),
      (onError) =>
        `migrations.define({ table: "users" }): \`onError\` must be "stop" or "skip"; got ${shown(onError)}`,
    );
  });

  test("runner of something that is not a migration reference", () => {
    refuses(
      fc.oneof(fc.constant(null), fc.double(), fc.integer(), fc.boolean()),
      (ref) => migrations.runner(ref as never),
      (ref) =>
        `migrations.runner(...): takes a migration's function reference like internal.migrations.setDefault, or an array of them; got ${shown(ref)}`,
    );
    refuses(
      fc.oneof(fc.constant(null), fc.integer(), fc.boolean()),
      (ref) =>
        migrations.runner([
          makeFunctionReference<"mutation">("migrations:a"),
          ref,
        ] as never),
      (ref) =>
        `migrations.runner(...): item 1 of the series must be a migration's function reference like internal.migrations.setDefault; got ${shown(ref)}`,
    );
  });

  test("well-formed definitions and runners still register", () => {
    expect(() =>
      migrations.define({
        table: "users",
        migrateOne,
        onError: "skip",
      } as never),
    ).not.toThrow();
    const ref = makeFunctionReference<"mutation">("migrations:a");
    expect(() => migrations.runner()).not.toThrow();
    expect(() => migrations.runner(ref as never)).not.toThrow();
    expect(() => migrations.runner([ref, ref] as never)).not.toThrow();
  });
});
