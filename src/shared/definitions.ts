/**
 * Checks of a function definition's options shared by every builder that
 * takes a `permission` and a `scope` (authz's builders, auditLog's admin
 * mutations and revert): one rule, one wording, one code. They run when the
 * app's module loads (definition time), so a mistake fails the deploy, not a
 * request.
 */
import { opskitError } from "./errors.js";

/** Whether `value` is an object that is neither an array nor null (a config or definition shape). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The error every definition-time mistake throws: `INVALID_ARGUMENT` naming the definition. */
export function definitionError(
  label: string,
  problem: string,
  details?: Record<string, string | number | boolean | null>,
) {
  return opskitError("INVALID_ARGUMENT", `${label}: ${problem}`, {
    ...details,
    definition: label,
  });
}

/**
 * Refuses a `scope` without a `permission` (a scope alone checks nothing)
 * and a `scope` that is neither a string nor a function of the arguments.
 * `label` names the definition in the message, e.g. `"authz"` or
 * `"auditLog: admin mutation setPlan"`.
 */
export function checkPermissionOptions(
  label: string,
  options: { permission?: unknown; scope?: unknown },
): void {
  const { permission, scope } = options;
  if (scope === undefined) return;
  if (permission === undefined)
    throw definitionError(label, "`scope` needs a `permission` to check");
  if (typeof scope !== "string" && typeof scope !== "function")
    throw definitionError(
      label,
      `\`scope\` must be a string or a function of the arguments; got ${typeof scope}`,
    );
}
