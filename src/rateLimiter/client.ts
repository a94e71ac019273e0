/**
 * `convex-opskit/rateLimiter`: application-layer rate limits for Convex,
 * API-compatible with `@convex-dev/rate-limiter` (change the imports to switch).
 * The entry point only; the client lives in `client/`, what it shares with
 * the component in `shared/`.
 */
export * from "./client/limiter.js";
export { default } from "./client/limiter.js";
