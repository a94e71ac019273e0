/**
 * Moved to `./shared/policy.ts` (both sides: the component imports it too).
 * Kept only so the imports of other areas (`src/ops/`, `test/ops/`, being
 * reshaped by other helpers this session) still resolve; switch them to
 * `./shared/policy.js` and delete this file.
 */
export * from "./shared/policy.js";
