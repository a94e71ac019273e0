import { MINUTE, RateLimiter } from "convex-opskit/rateLimiter";
import { components } from "./_generated/api";

/** The app's rate limits; names are type-checked wherever they are used. */
export const rateLimiter = new RateLimiter(components.rateLimiter, {
  // Everyone's sign-ups together: no boundary burst with a sliding window.
  signUp: { kind: "sliding window", rate: 3, period: MINUTE },
  // Per user: bursts of 3 posts, then one every 12 seconds.
  createPost: { kind: "token bucket", rate: 5, period: MINUTE, capacity: 3 },
  // Per user: 3 attempts a minute; once denied, locked out for 15 minutes
  // even though the bucket refills every 20 seconds.
  pinAttempt: {
    kind: "token bucket",
    rate: 3,
    period: MINUTE,
    penalty: 15 * MINUTE,
  },
});
