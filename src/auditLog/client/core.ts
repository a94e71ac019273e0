/**
 * What the functions of `./` need of an `AuditLog` (its {@link AuditCore}),
 * derived once from the constructor's options.
 */
import { definitionError, isRecord } from "../../shared/definitions.js";
import { shown } from "../../shared/errors.js";
import { MAX_REASON_LENGTH } from "../shared/limits.js";
import type { ComponentApi } from "../component/_generated/component.js";

/**
 * What the client's functions need of an `AuditLog`: its component, the
 * argument names it redacts, its table redaction and its reason policy.
 */
export type AuditCore = {
  readonly component: ComponentApi;
  /** Redacted in every admin call's arguments, at any depth. */
  readonly argKeys: ReadonlySet<string>;
  /** The shortest reason accepted (after trimming). */
  readonly minLength: number;
  redactedPaths(table: string): readonly string[];
  checkReason(reason: string): void;
};

/**
 * `new AuditLog(component, options)`: checks the options (a mistake is
 * `INVALID_ARGUMENT` when the module loads) and derives the log's
 * {@link AuditCore}; `log` is the `AuditLog` under construction.
 */
export function auditCore(
  component: ComponentApi,
  options: {
    redact?: object;
    redactArgs?: readonly string[];
    reason?: { minLength?: number; pattern?: RegExp };
    retention?: { maxAgeMs: number };
  },
  log: Pick<AuditCore, "redactedPaths" | "checkReason">,
): AuditCore {
  // From untyped code `null` or a string would fail with a TypeError (or be
  // read character by character) instead of naming the mistake.
  if (!isRecord(options))
    throw definitionError(
      "auditLog",
      `new AuditLog(component, options) takes an options object { redact, redactArgs, reason, retention }; got ${shown(options)}`,
    );
  checkObject("redact", options.redact, "{ table: field paths }");
  checkObject("reason", options.reason, "{ minLength, pattern }");
  checkObject("retention", options.retention, "{ maxAgeMs }");
  const minLength = options.reason?.minLength ?? 10;
  if (!Number.isInteger(minLength) || minLength < 1)
    throw definitionError(
      "auditLog",
      `reason.minLength must be a positive integer; got ${shown(options.reason?.minLength)}`,
    );
  if (minLength > MAX_REASON_LENGTH)
    throw definitionError(
      "auditLog",
      `reason.minLength (${minLength}) is over the longest reason accepted (${MAX_REASON_LENGTH})`,
    );
  const pattern = options.reason?.pattern;
  if (pattern !== undefined && !(pattern instanceof RegExp))
    throw definitionError(
      "auditLog",
      `reason.pattern must be a RegExp; got ${typeof pattern}`,
    );
  // From untyped code a string here would be read character by character
  // (redacting "p", "a", … instead of "password").
  checkNames("redactArgs", options.redactArgs, "argument names");
  for (const [table, paths] of Object.entries(options.redact ?? {}))
    checkNames(`redact.${table}`, paths, "field paths");
  if (options.retention !== undefined && !(options.retention.maxAgeMs > 0))
    throw definitionError(
      "auditLog",
      `retention.maxAgeMs must be positive; got ${shown(options.retention.maxAgeMs)}`,
    );
  // A field redacted in any table is redacted in arguments too: admins
  // often pass the new value of exactly that field.
  const argKeys = new Set<string>(options.redactArgs ?? []);
  for (const paths of Object.values(options.redact ?? {}))
    for (const path of (paths as readonly string[]) ?? [])
      argKeys.add(path.split(".").pop()!);
  return {
    component,
    argKeys,
    minLength,
    redactedPaths: (table) => log.redactedPaths(table),
    checkReason: (reason) => log.checkReason(reason),
  };
}

/** `INVALID_ARGUMENT` unless the option `field` is undefined or an object (not an array). */
function checkObject(field: string, value: unknown, shape: string): void {
  if (value !== undefined && !isRecord(value))
    throw definitionError(
      "auditLog",
      `${field} must be an object ${shape}; got ${shown(value)}`,
    );
}

/** `INVALID_ARGUMENT` unless `value` is undefined or an array of strings. */
function checkNames(field: string, value: unknown, what: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value))
    throw definitionError(
      "auditLog",
      `${field} must be an array of ${what}; got ${typeof value}`,
    );
  const bad = value.find((x) => typeof x !== "string");
  if (bad !== undefined)
    throw definitionError(
      "auditLog",
      `${field} must be an array of ${what}; got ${typeof bad} in it`,
    );
}
