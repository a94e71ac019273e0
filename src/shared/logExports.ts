/**
 * What every capability's entry point re-exports about logs, so a user can
 * route or silence them from whichever entry they import
 * (`import { configureLogs } from "convex-opskit/authz"`): one place, one line each.
 */
export {
  configureLogs,
  type LogEvent,
  type LogOptions,
  type LogSink,
} from "./log.js";
