import { describe, expect, test } from "vitest";
import { errorOf } from "../helpers.js";
import {
  applicableRoles,
  compileRoles,
  constantTimeEqual,
  grantApplies,
  hasPermission,
  isPermissionName,
  isPermissionPattern,
  isValidScope,
  isValidUserId,
  patternMatches,
  roleGrants,
} from "../internal.js";
import { MAX_USER_ID_LENGTH } from "convex-opskit/authz";

const roles = compileRoles({
  viewer: ["posts.read"],
  editor: ["posts.read", "posts.write"],
  moderator: ["posts.*"],
  deep: ["posts.comments.*"],
  admin: ["*"],
});

describe("patterns", () => {
  test.each([
    ["*", "anything.at.all", true],
    ["posts.*", "posts.read", true],
    ["posts.*", "posts.comments.write", true],
    ["posts.*", "postsX.read", false],
    ["posts.*", "posts", false],
    ["posts.read", "posts.read", true],
    ["posts.read", "posts.reader", false],
    ["posts.comments.*", "posts.read", false],
  ])("%s covers %s: %s", (pattern, permission, expected) => {
    expect(patternMatches(pattern, permission)).toBe(expected);
  });

  test("roles grant by exact name, prefix and star; unknown roles grant nothing", () => {
    expect(roleGrants(roles, "viewer", "posts.read")).toBe(true);
    expect(roleGrants(roles, "viewer", "posts.write")).toBe(false);
    expect(roleGrants(roles, "moderator", "posts.delete")).toBe(true);
    expect(roleGrants(roles, "moderator", "members.manage")).toBe(false);
    expect(roleGrants(roles, "deep", "posts.comments.delete")).toBe(true);
    expect(roleGrants(roles, "deep", "posts.read")).toBe(false);
    expect(roleGrants(roles, "admin", "members.manage")).toBe(true);
    expect(roleGrants(roles, "ghost", "posts.read")).toBe(false);
    expect(roleGrants(roles, "__proto__", "posts.read")).toBe(false);
  });

  test.each([
    "posts.**",
    "*.read",
    "posts read",
    "",
    "posts.",
    ".posts",
    "po*sts",
  ])("malformed pattern %j is refused", async (p) => {
    expect(isPermissionPattern(p)).toBe(false);
    const data = await errorOf(() => compileRoles({ r: [p] }));
    expect(data.code).toBe("INVALID_ARGUMENT");
    expect(data.message).toBe(
      `authz: role "r" has a malformed permission ${JSON.stringify(p)}; expected "name", "prefix.*" or "*"`,
    );
  });

  test("permission names have no wildcard", () => {
    expect(isPermissionName("posts.read")).toBe(true);
    expect(isPermissionName("posts.*")).toBe(false);
    expect(isPermissionName("*")).toBe(false);
  });
});

describe("grants", () => {
  const now = 1_000;
  test("global grants apply everywhere, scoped grants only in their scope", () => {
    expect(grantApplies({ role: "viewer" }, undefined, now)).toBe(true);
    expect(grantApplies({ role: "viewer" }, "team:1", now)).toBe(true);
    expect(
      grantApplies({ role: "viewer", scope: "team:1" }, "team:1", now),
    ).toBe(true);
    expect(
      grantApplies({ role: "viewer", scope: "team:1" }, "team:2", now),
    ).toBe(false);
    expect(
      grantApplies({ role: "viewer", scope: "team:1" }, undefined, now),
    ).toBe(false);
  });

  test("a grant expires at its expiresAt, not after", () => {
    expect(
      grantApplies({ role: "viewer", expiresAt: now + 1 }, undefined, now),
    ).toBe(true);
    expect(
      grantApplies({ role: "viewer", expiresAt: now }, undefined, now),
    ).toBe(false);
  });

  test("hasPermission combines grants; applicableRoles lists them sorted and deduplicated", () => {
    const grants = [
      { role: "viewer" },
      { role: "editor", scope: "team:1" },
      { role: "admin", scope: "team:2", expiresAt: now - 1 },
      { role: "viewer", scope: "team:1" },
    ];
    expect(hasPermission(roles, grants, "posts.write", "team:1", now)).toBe(
      true,
    );
    expect(hasPermission(roles, grants, "posts.write", "team:2", now)).toBe(
      false,
    );
    expect(hasPermission(roles, grants, "posts.read", "team:9", now)).toBe(
      true,
    );
    expect(applicableRoles(grants, "team:1", now)).toEqual([
      "editor",
      "viewer",
    ]);
    expect(applicableRoles(grants, "team:2", now)).toEqual(["viewer"]);
    expect(hasPermission(roles, [], "posts.read", undefined, now)).toBe(false);
  });
});

describe("input shapes", () => {
  test.each(["team:42", "org:acme/eu", "a:b:c", "doc-type.v2:x_1"])(
    "scope %j is valid",
    (s) => {
      expect(isValidScope(s)).toBe(true);
    },
  );
  test.each([
    "",
    "team",
    "team:",
    ":42",
    " team:42",
    "team: 42",
    "team:4\n2",
    "9team:1",
    "t:" + "x".repeat(191),
  ])("scope %j is malformed", (s) => {
    expect(isValidScope(s)).toBe(false);
  });
  test("user ids must be non-empty, bounded and printable", () => {
    expect(isValidUserId("user|123")).toBe(true);
    expect(isValidUserId("")).toBe(false);
    expect(isValidUserId("x".repeat(MAX_USER_ID_LENGTH))).toBe(true);
    expect(isValidUserId("x".repeat(MAX_USER_ID_LENGTH + 1))).toBe(false);
    expect(isValidUserId("a\u0000b")).toBe(false);
  });
});

describe("constant-time key comparison", () => {
  test("equal only for the same non-empty key", () => {
    expect(constantTimeEqual("s3cret-key", "s3cret-key")).toBe(true);
    expect(constantTimeEqual("s3cret-kez", "s3cret-key")).toBe(false);
    expect(constantTimeEqual("s3cret-key!", "s3cret-key")).toBe(false);
    expect(constantTimeEqual("s3cret", "s3cret-key")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(false);
    expect(constantTimeEqual("ключ", "ключ")).toBe(true);
    expect(constantTimeEqual("ключ", "ключа")).toBe(false);
  });
});
