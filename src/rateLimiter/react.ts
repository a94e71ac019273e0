/**
 * `convex-opskit/rateLimiter/react`: show a rate limit's status in React.
 * The entry point only; the hook lives in `client/react.ts`.
 */
export * from "./client/react.js";
