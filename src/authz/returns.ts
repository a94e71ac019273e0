/**
 * Moved to `./client/returns.ts`. Kept only so the import of `src/ops/`
 * (reshaped by another helper this session) still resolves; switch it to
 * `./client/returns.js` and delete this file.
 */
export * from "./client/returns.js";
