import { AuditLog } from "convex-opskit/auditLog";
import { zAdminMutation as zodAdminMutation } from "convex-opskit/auditLog/zod";
import { components } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { authz } from "./authz";

/** Every admin change is recorded here, with who, what, why, before and after. */
export const auditLog = new AuditLog<DataModel>(components.auditLog, {
  redact: { users: ["pinHash"] },
  reason: {
    minLength: 10,
    pattern: /\b[A-Z]+-\d+\b/,
    patternHint: "a ticket id such as SUP-1234",
  },
});

/** Authenticated and authorized by authz, scoped to declared tables, recorded by auditLog. */
export const adminMutation = auditLog.adminMutation(authz);

/** The same, with zod arguments (e.g. a bounded length `v` cannot express). */
export const zAdminMutation = zodAdminMutation(auditLog, authz);
