import { HOUR, MINUTE, RateLimiter } from "convex-opskit/rateLimiter";
import { components } from "./_generated/api";

/** The app's rate limits; names are type-checked wherever they are used. */
export const rateLimiter = new RateLimiter(components.rateLimiter, {
  // Everyone's sign-ups together: no boundary burst with a sliding window.
  signUp: { kind: "sliding window", rate: 3, period: MINUTE },
  // Per user: bursts of 3 posts, then one every 12 seconds.
  createPost: { kind: "token bucket", rate: 5, period: MINUTE, capacity: 3 },
  // Per user: 3 wrong PINs, then locked out for 15 minutes however time passes.
  pinAttempt: {
    kind: "fixed window",
    rate: 3,
    period: HOUR,
    penalty: 15 * MINUTE,
  },
});
