/**
 * The rate limiter's own schedule: a sweep of full states once a minute.
 * A cron, not a job scheduled by `limit`, so the app's tests and scheduled
 * work never see it (convex-test runs no crons), while a deployment keeps
 * storage bounded by the keys active in about the last period.
 */
import { cronJobs } from "convex/server";
import { internal } from "./_generated/api.js";

const crons = cronJobs();

crons.interval(
  "sweep full rate-limit states",
  { minutes: 1 },
  internal.sweep.run,
  {},
);

export default crons;
