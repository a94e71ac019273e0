import { describe, expect, test } from "vitest";
import {
  changedPaths,
  driftedPaths,
  redactDocument,
  redactKeys,
  restoreRedacted,
  sameVersion,
  valuesEqual,
  netKind,
  withoutSystemFields,
} from "../internal.js";
import { REDACTED } from "convex-opskit/auditLog";

const doc = {
  _id: "u1",
  _creationTime: 1,
  name: "ann",
  role: "member",
  tags: ["a", "b"],
  profile: { city: "Paris", ssn: "123", nested: { x: 1 } },
};

describe("changedPaths", () => {
  test("lists changed, added and removed fields, descending into objects", () => {
    const after = {
      ...doc,
      role: "admin",
      tags: ["a", "b", "c"],
      profile: { city: "Lyon", ssn: "123", nested: { x: 1 } },
      email: "a@b",
    };
    delete (after as Partial<typeof after>).name;
    expect(changedPaths(doc, after)).toEqual([
      "email",
      "name",
      "profile.city",
      "role",
      "tags",
    ]);
  });

  test("insert and delete count every top-level user field, never system fields", () => {
    expect(changedPaths(null, doc)).toEqual([
      "name",
      "profile",
      "role",
      "tags",
    ]);
    expect(changedPaths(doc, null)).toEqual(changedPaths(null, doc));
    expect(changedPaths(doc, { ...doc, _creationTime: 2 })).toEqual([]);
  });

  test("an object replaced by a scalar is one change at that path", () => {
    expect(changedPaths({ p: { a: 1 } }, { p: 5 })).toEqual(["p"]);
    expect(changedPaths({ n: 1n }, { n: 1 })).toEqual(["n"]);
  });
});

describe("redaction", () => {
  test("redactDocument replaces present top-level and nested paths only", () => {
    const r = redactDocument(doc, ["profile.ssn", "password", "name"]);
    expect(r).toEqual({
      ...doc,
      name: REDACTED,
      profile: { ...doc.profile, ssn: REDACTED },
    });
    expect(r).not.toHaveProperty("password");
    // The input is not mutated.
    expect(doc.profile.ssn).toBe("123");
    expect(redactDocument(null, ["name"])).toBeNull();
  });

  test("redactKeys hides keys at any depth, in arrays too", () => {
    expect(
      redactKeys(
        {
          password: "x",
          list: [{ password: "y", ok: 1 }],
          inner: { token: "t" },
        },
        new Set(["password", "token"]),
      ),
    ).toEqual({
      password: REDACTED,
      list: [{ password: REDACTED, ok: 1 }],
      inner: { token: REDACTED },
    });
  });

  test("restoreRedacted takes redacted values from the live document", () => {
    const recorded = redactDocument(doc, ["profile.ssn"]);
    const live = { ...doc, profile: { ...doc.profile, ssn: "999" } };
    expect(restoreRedacted(recorded, live, ["profile.ssn"])).toEqual({
      doc: { ...doc, profile: { ...doc.profile, ssn: "999" } },
      missing: [],
    });
    const gone = restoreRedacted(recorded, null, ["profile.ssn"]);
    expect(gone.missing).toEqual(["profile.ssn"]);
    expect(gone.doc.profile).toEqual({ city: "Paris", nested: { x: 1 } });
  });
});

describe("comparison", () => {
  test("sameVersion ignores redacted paths and nothing else", () => {
    const recorded = redactDocument(doc, ["profile.ssn"]);
    expect(sameVersion(recorded, doc, ["profile.ssn"])).toBe(true);
    expect(sameVersion(recorded, { ...doc, role: "x" }, ["profile.ssn"])).toBe(
      false,
    );
    expect(sameVersion(null, null, [])).toBe(true);
    expect(sameVersion(doc, null, [])).toBe(false);
    expect(
      driftedPaths(recorded, { ...doc, role: "x" }, ["profile.ssn"]),
    ).toEqual(["role"]);
  });

  test("valuesEqual is deep and key-order blind", () => {
    expect(valuesEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(valuesEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(valuesEqual(undefined, null)).toBe(false);
  });

  test("withoutSystemFields strips _id and _creationTime only", () => {
    expect(withoutSystemFields(doc)).toEqual({
      name: "ann",
      role: "member",
      tags: ["a", "b"],
      profile: doc.profile,
    });
  });
});

describe("netKind", () => {
  test("insert, delete, replace, patch by before/after and the writes made", () => {
    expect(netKind(null, doc, ["insert", "patch"])).toBe("insert");
    expect(netKind(doc, null, ["patch", "delete"])).toBe("delete");
    expect(netKind(null, null, ["insert", "delete"])).toBe("delete");
    expect(netKind(doc, doc, ["patch", "replace"])).toBe("replace");
    expect(netKind(doc, doc, ["patch"])).toBe("patch");
  });
});
