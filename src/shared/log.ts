/**
 * Structured logs: one JSON object per line with an `event` field, so a log
 * stream (Convex log streams, Axiom, Datadog...) can filter and alert on them.
 *
 * Event names are `<capability>.<what>`, e.g. `authz.deny`,
 * `rateLimiter.reject`, `auditLog.write`, `migrations.progress`.
 */
export type LogEvent = { event: string; [field: string]: unknown };

/** Where log lines go. Defaults to `console.log`; tests and the demo may swap it. */
let sink: (line: string) => void = (line) => console.log(line);

/** Emits one structured log line. Never pass secrets or whole documents. */
export function logEvent(
  event: string,
  fields: Record<string, unknown> = {},
): void {
  sink(JSON.stringify({ event, ...fields }));
}

/**
 * Replaces the log sink and returns a function restoring the previous one.
 * Used by tests and the demo to capture lines; production code keeps the default.
 */
export function setLogSink(next: (line: string) => void): () => void {
  const previous = sink;
  sink = next;
  return () => {
    sink = previous;
  };
}
