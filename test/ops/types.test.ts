/**
 * The console accepts exactly what `opsApi` exports: the example app's
 * `api.ops` type-checks as `OpsApi`; another module, a missing function or
 * a wrong option is a type error.
 */
import { getFunctionName } from "convex/server";
import { createElement } from "react";
import { describe, expect, test } from "vitest";
import { opsApi, OPS_FUNCTIONS, type OpsApi } from "convex-opskit/ops";
import { OpsConsole, AuditTrail } from "convex-opskit/react";
import { api } from "../../convex/_generated/api";
import { auditLog } from "../../convex/audit";
import { authz } from "../../convex/authz";
import * as exported from "../../convex/ops";
import { errorOf } from "../helpers.js";

describe("types", () => {
  test("api.ops is an OpsApi; other shapes are not", () => {
    const ok: OpsApi = api.ops;
    // @ts-expect-error the admin module is not the console's API
    const wrongModule: OpsApi = api.admin;
    const { auditRevert: _, ...missing } = api.ops;
    // @ts-expect-error a console without auditRevert is incomplete
    const incomplete: OpsApi = missing;
    createElement(OpsConsole, { api: api.ops });
    // Each panel takes only the functions it needs.
    createElement(AuditTrail, { api: api.ops });
    // @ts-expect-error a panel needs its functions
    createElement(AuditTrail, { api: { opsConfig: api.ops.opsConfig } });
    expect([wrongModule, incomplete].length).toBe(2);
    expect(getFunctionName(ok.auditRevert)).toBe("ops:auditRevert");
    expect(
      Object.keys(exported)
        .filter((k) => k !== "default")
        .sort(),
    ).toEqual([...OPS_FUNCTIONS].sort());
  });

  test("convex/ops.ts names every function opsApi returns, and nothing else", () => {
    // Convex registers only named exports, so convex/ops.ts lists each one
    // by hand: a function added to opsApi and not exported there would be
    // missing from api.ops.
    const built = opsApi({ authz, auditLog, revertTables: ["users"] });
    expect(
      Object.keys(exported)
        .filter((k) => k !== "default")
        .sort(),
    ).toEqual(Object.keys(built).sort());
    expect(Object.keys(built)).toEqual([...OPS_FUNCTIONS]);
  });

  test("options are checked against the app's tables and permissions", () => {
    const typeOnly = () => {
      // @ts-expect-error "comments" is not a table of the example app
      opsApi({ authz, auditLog, revertTables: ["comments"] });
      const o = { authz, auditLog, revertTables: ["users"] as const };
      // @ts-expect-error "audit.raed" is not one of the app's permissions
      opsApi({ ...o, permissions: { read: "audit.raed" } });
    };
    expect(typeof typeOnly).toBe("function");
  });

  test("a permission no role grants is refused when the API is defined", async () => {
    expect(() =>
      opsApi({
        authz,
        auditLog,
        revertTables: ["users"],
        permissions: { read: "users.assignAdmin" },
      }),
    ).not.toThrow();
    const narrow = { ...authz, compiled: new Map() } as unknown as typeof authz;
    expect(
      await errorOf(() =>
        opsApi({ authz: narrow, auditLog, revertTables: ["users"] }),
      ),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining('no role grants "audit.read"'),
    });
    expect(
      await errorOf(() => opsApi({ authz, auditLog, revertTables: [] })),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("revertTables"),
    });
  });
  // Found by atk-arch1: options that are not an object, or a revertTables
  // that is not a list, failed with a TypeError instead of the coded error.
  test("options that are not an object, or revertTables not a list, are refused with a code", async () => {
    expect(await errorOf(() => opsApi(null as never))).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "opsApi: takes { authz, auditLog, revertTables, ... }; got null",
    });
    expect(
      await errorOf(() =>
        opsApi({ auditLog, revertTables: ["users"] } as never),
      ),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      message:
        "opsApi: options.authz must be an Authz instance (new Authz(...))",
    });
    expect(
      await errorOf(() => opsApi({ authz, revertTables: ["users"] } as never)),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      message:
        "opsApi: options.auditLog must be an AuditLog instance (new AuditLog(...))",
    });
    expect(
      await errorOf(() => opsApi({ authz, auditLog } as never)),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "opsApi: revertTables must list the tables a revert may write",
    });
  });
});
