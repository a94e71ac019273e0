/**
 * Whether the lines of this realm are dropped (`configureLogs({ level:
 * "silent" })` or `silenceLogs()`), so a caller can skip work done only to
 * decorate a line (the rateLimiter client looks up `functionName` for its
 * denial lines only when they will be written). Added beside `log.ts`
 * (not in it) by the rateLimiter's part of issue 13.
 */
import { SINK_KEY, silentSink } from "./log.js";

/**
 * True when the realm's sink is this module copy's `silentSink`. A sink set
 * by another copy of the package reads as not silenced: the caller then does
 * the work and the line is dropped anyway, never the reverse.
 */
export function logsSilenced(): boolean {
  return (globalThis as { [SINK_KEY]?: unknown })[SINK_KEY] === silentSink;
}
