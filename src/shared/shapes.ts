/**
 * Shape tests of the definition-time checks (constructor configs, builder
 * definitions) that every capability makes on values from untyped code.
 */

/** Whether `value` is an object that is neither an array nor null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
