/**
 * The checks of `new RateLimiter(component, limits, options)`: a mistake
 * (untyped code, limits built at runtime) is `INVALID_ARGUMENT` naming what
 * was expected and what arrived, when the module loads — not a string or an
 * array read as limits named "0", "1", … nor a TypeError at the first call.
 */
import { definitionError, isRecord } from "../../shared/definitions.js";
import { shown } from "../../shared/errors.js";
import { validateConfig, validateNameAndKey } from "../shared/validate.js";
import type { RequestConfig } from "../shared/config.js";

const POLICIES = ["deny", "allow", "throw"];

/** Throws `INVALID_ARGUMENT` at the first malformed limit or option. */
export function checkLimiterOptions(limits: unknown, options: unknown): void {
  if (limits !== undefined && !isRecord(limits))
    throw definitionError(
      "rateLimiter",
      `new RateLimiter(component, limits) takes an object of limit names to configs; got ${shown(limits)}`,
    );
  for (const [name, config] of Object.entries(limits ?? {})) {
    validateNameAndKey(name, undefined);
    validateConfig(name, config as RequestConfig);
  }
  if (!isRecord(options))
    throw definitionError(
      "rateLimiter",
      `new RateLimiter(component, limits, options) takes an options object { onContention }; got ${shown(options)}`,
    );
  const policy = options.onContention;
  if (policy !== undefined && !POLICIES.includes(policy as string))
    throw definitionError(
      "rateLimiter",
      `options.onContention must be "deny", "allow" or "throw"; got ${shown(policy)}`,
    );
}
