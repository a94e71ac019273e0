/**
 * Structured logs: one JSON object per line with an `event` field, so a log
 * stream (Convex log streams, Axiom, Datadog...) can filter and alert on them.
 *
 * Event names are `<capability>.<what>`, e.g. `authz.deny`,
 * `rateLimiter.deny`, `auditLog.write`, `migrations.batch` (README.md
 * "Structured logs" lists them all). A line about a caller names it with
 * `functionName`, `actorId` and `actorKind` in every component.
 *
 * Where lines go is decided by one sink per JavaScript realm, kept on
 * `globalThis` so every copy of this module in a process (the package's
 * `dist/` build used by the clients and the `src/` modules `convex-opskit/test`
 * registers with convex-test) shares it. In a Convex deployment the app's
 * functions and each component run in their own realm: a sink set in the
 * app's code routes the lines the clients emit inside the app's functions,
 * never the lines a component emits inside its own functions (those always
 * reach the deployment's logs through `console.log`).
 */
import { definitionError } from "./definitions.js";

export type LogEvent = { event: string; [field: string]: unknown };

/**
 * Receives each log line: `line` is the JSON text, `event` the same object
 * parsed (do not mutate it). A sink may be async; if it throws or its
 * promise rejects, the line goes to `console.log` with the error on
 * `console.error`, and the function that logged carries on.
 */
export type LogSink = (line: string, event: LogEvent) => void;

/** Where the realm's sink lives: one per realm, shared by every copy of the package. */
const SINK_KEY: unique symbol = Symbol.for("convex-opskit.logSink");
type SinkHolder = { [SINK_KEY]?: LogSink };
const holder = globalThis as SinkHolder;

/** The default sink: `console.log`, which a deployment sends to its logs. */
export const consoleSink: LogSink = (line) => console.log(line);

/** A sink that drops every line. */
export const silentSink: LogSink = () => {};

function currentSink(): LogSink {
  return holder[SINK_KEY] ?? consoleSink;
}

/**
 * Whether the lines of this realm are dropped (`configureLogs({ level:
 * "silent" })` or `silenceLogs()`), so a caller can skip work done only to
 * decorate a line. True when the realm's sink is this module copy's
 * `silentSink`: a sink set by another copy of the package reads as not
 * silenced, so the caller then does the work and the line is dropped anyway,
 * never the reverse.
 */
export function logsSilenced(): boolean {
  return holder[SINK_KEY] === silentSink;
}

/** Emits one structured log line. Never pass secrets or whole documents. */
export function logEvent(
  event: string,
  fields: Record<string, unknown> = {},
): void {
  let entry: LogEvent = { event, ...fields };
  let line: string;
  try {
    line = JSON.stringify(entry);
  } catch {
    // A field JSON cannot encode (a bigint, a cycle) must not fail the
    // caller's function: encode it as text and hand sinks the parsed line.
    line = JSON.stringify(entry, encodable());
    entry = JSON.parse(line) as LogEvent;
  }
  const sink = currentSink();
  const fallBack = (error: unknown) => {
    // A failing custom sink must not fail the caller's function: the line
    // still reaches the deployment's log, with the sink's error.
    console.log(line);
    console.error(
      `convex-opskit: the log sink threw (${error instanceof Error ? error.message : String(error)}); the line went to console.log`,
    );
  };
  try {
    const result: unknown = sink(line, entry);
    // An async sink's rejection arrives later: catch it too, or it would be
    // an unhandled rejection (which fails a test run).
    if (
      result !== null &&
      typeof result === "object" &&
      typeof (result as { then?: unknown }).then === "function"
    )
      (result as PromiseLike<unknown>).then(undefined, fallBack);
  } catch (error) {
    if (sink === consoleSink) throw error;
    fallBack(error);
  }
}

/** A JSON replacer writing bigints as `"<n>n"` and repeated objects as `"[Circular]"`. */
function encodable(): (key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (typeof value === "bigint") return `${value}n`;
    if (value !== null && typeof value === "object") {
      if (seen.has(value)) return "[Circular]";
      seen.add(value);
    }
    return value;
  };
}

/**
 * Replaces where convex-opskit's log lines go and returns a function that
 * restores the previous sink (call it in `afterEach`, or when a custom sink
 * is no longer wanted). `null` restores the default (`console.log`).
 *
 * @example
 * const restore = setLogSink((line, event) => {
 *   if (event.event === "authz.deny") myAlerts.push(event);
 * });
 * // ...
 * restore();
 */
export function setLogSink(next: LogSink | null): () => void {
  const previous = holder[SINK_KEY];
  holder[SINK_KEY] = next ?? undefined;
  return () => {
    holder[SINK_KEY] = previous;
  };
}

/**
 * Drops every convex-opskit log line until the returned function is called.
 * For test suites that do not want the components' JSON lines in their output.
 */
export function silenceLogs(): () => void {
  return setLogSink(silentSink);
}

/** Options of {@link configureLogs}. */
export type LogOptions = {
  /**
   * `"info"` (default) emits every line; `"silent"` emits none. Applies to
   * lines emitted in this realm (see the module comment).
   */
  level?: "info" | "silent";
  /** Where lines go when `level` is `"info"`; defaults to `console.log`. */
  sink?: LogSink;
};

/**
 * Sets where the lines the clients emit inside your app's functions go, for
 * the whole realm: call it once at the top of a module your functions import
 * (e.g. next to `new Authz(...)`). Returns a function restoring the previous
 * setting. A malformed option throws a coded `INVALID_ARGUMENT` when called.
 *
 * @example
 * configureLogs({ level: "silent" }); // no authz/rateLimiter/auditLog client lines
 */
export function configureLogs(options: LogOptions): () => void {
  if (
    options.level !== undefined &&
    !["info", "silent"].includes(options.level)
  )
    throw definitionError(
      "configureLogs",
      `level must be "info" or "silent"; got ${JSON.stringify(options.level)}`,
    );
  if (options.sink !== undefined && typeof options.sink !== "function")
    throw definitionError(
      "configureLogs",
      `sink must be a function (line, event) => void; got ${typeof options.sink}`,
    );
  return setLogSink(
    options.level === "silent" ? silentSink : (options.sink ?? null),
  );
}
