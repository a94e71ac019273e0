/**
 * The rules that refuse bad input with `INVALID_ARGUMENT`, shared by the
 * client and the component so both refuse the same input with the same
 * words: names and keys, configs, counts and the `countStates` bound.
 */
import { clipped, opskitError, shown } from "../../shared/errors.js";
import type { RequestConfig, WireConfig } from "./config.js";

const KINDS = new Set([
  "token bucket",
  "fixed window",
  "sliding window",
  "gcra",
]);

function bad(
  name: string,
  message: string,
  details: Record<string, unknown> = {},
): never {
  throw opskitError(
    "INVALID_ARGUMENT",
    `Rate limit ${shown(name)}: ${message}`,
    {
      name: typeof name === "string" ? clipped(name) : name,
      ...(details as Record<string, string | number | boolean | null>),
    },
  );
}

/** Longest accepted limit name, in characters (UTF-16 code units). */
export const MAX_NAME_LENGTH = 256;
/** Longest accepted key, in characters (UTF-16 code units). */
export const MAX_KEY_LENGTH = 256;

/**
 * Throws `INVALID_ARGUMENT` unless `name` is a non-empty string of at most
 * {@link MAX_NAME_LENGTH} characters and `key` (when given) a string of at
 * most {@link MAX_KEY_LENGTH}. Names and keys are stored, indexed and logged
 * verbatim, and keys are often client-influenced (IPs, hook key functions),
 * so this runs before anything is read or written. The error never echoes an
 * over-long value: it carries its length and a short prefix.
 */
export function validateNameAndKey(name: unknown, key: unknown): void {
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    name.length > MAX_NAME_LENGTH
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `Rate limit name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters (got ${
        typeof name === "string" ? `${name.length} characters` : typeof name
      })`,
      typeof name === "string"
        ? { name: name.slice(0, 64), nameLength: name.length }
        : {},
    );
  if (key === undefined) return;
  if (typeof key !== "string" || key.length > MAX_KEY_LENGTH)
    throw opskitError(
      "INVALID_ARGUMENT",
      `Rate limit ${shown(name)}: key must be a string of at most ${MAX_KEY_LENGTH} characters (got ${
        typeof key === "string" ? `${key.length} characters` : typeof key
      })`,
      {
        name,
        ...(typeof key === "string"
          ? { key: key.slice(0, 64), keyLength: key.length }
          : {}),
      },
    );
}

/** Most shards a limit may have. */
export const MAX_SHARDS = 1024;

/** Largest bound (`limit`, formerly `upTo`) accepted by `countStates`. */
export const MAX_COUNT_STATES = 10_000;

/**
 * Throws `INVALID_ARGUMENT` unless `upTo` is undefined or a whole number from
 * 1 to {@link MAX_COUNT_STATES}; returns the effective bound (default 1000).
 * `field` names the argument in the message (`countStates(ctx, { limit })`).
 */
export function validateUpTo(
  upTo: unknown,
  field: "upTo" | "limit" = "upTo",
): number {
  if (upTo === undefined) return 1000;
  if (
    typeof upTo !== "number" ||
    !Number.isInteger(upTo) ||
    upTo < 1 ||
    upTo > MAX_COUNT_STATES
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `countStates: ${field} must be a whole number from 1 to ${MAX_COUNT_STATES} (got ${shown(upTo)})`,
      {
        [field]:
          typeof upTo === "number"
            ? Number.isFinite(upTo)
              ? upTo
              : String(upTo)
            : typeof upTo,
      },
    );
  return upTo;
}

const positiveFinite = (x: unknown): x is number =>
  typeof x === "number" && Number.isFinite(x) && x > 0;

/**
 * Throws `INVALID_ARGUMENT` unless `config` can be honoured: positive finite
 * rate and period, consistent optional fields, whole shard count no larger
 * than the capacity.
 */
export function validateConfig(
  name: string,
  config: RequestConfig,
): asserts config is WireConfig {
  if (!config || typeof config !== "object" || Array.isArray(config))
    bad(
      name,
      `config must be an object { kind, rate, period, ... } (got ${shown(config)})`,
    );
  if (!KINDS.has(config.kind as string))
    bad(
      name,
      `kind must be one of "token bucket", "fixed window", "sliding window", "gcra" (got ${shown(config.kind)})`,
    );
  if (!positiveFinite(config.rate))
    bad(
      name,
      `rate must be a positive finite number (got ${shown(config.rate)})`,
    );
  if (!positiveFinite(config.period))
    bad(
      name,
      `period must be a positive finite number of ms (got ${shown(config.period)})`,
    );
  const c = config as { capacity?: number };
  if (config.kind === "sliding window" && c.capacity !== undefined)
    bad(
      name,
      "a sliding window has no capacity: it admits `rate` per any `period`",
    );
  if (c.capacity !== undefined && !positiveFinite(c.capacity))
    bad(
      name,
      `capacity must be a positive finite number (got ${shown(c.capacity)})`,
    );
  if (
    config.maxReserved !== undefined &&
    !(Number.isFinite(config.maxReserved) && config.maxReserved >= 0)
  )
    bad(
      name,
      `maxReserved must be a finite number >= 0 (got ${shown(config.maxReserved)})`,
    );
  if (
    config.penalty !== undefined &&
    !(Number.isFinite(config.penalty) && config.penalty >= 0)
  )
    bad(
      name,
      `penalty must be a finite number of ms >= 0 (got ${shown(config.penalty)})`,
    );
  if (
    config.start !== undefined &&
    config.start !== null &&
    (config.kind === "token bucket" || config.kind === "gcra")
  )
    bad(name, `start only applies to windowed limits, not "${config.kind}"`);
  if (typeof config.start === "number" && !Number.isFinite(config.start))
    bad(name, "start must be a finite timestamp in ms");
  if (
    config.applyUpdates !== undefined &&
    config.applyUpdates !== "transactionally" &&
    config.applyUpdates !== "asynchronously"
  )
    bad(
      name,
      `applyUpdates must be "transactionally" or "asynchronously" (got ${shown(config.applyUpdates)})`,
    );
  if (
    config.applyUpdates === "asynchronously" &&
    config.shards !== undefined &&
    config.shards !== 1
  )
    bad(
      name,
      `an asynchronous limit cannot be sharded (got shards: ${String(config.shards)}); its callers never conflict on its state`,
    );
  if (config.applyUpdates === "asynchronously" && config.penalty)
    bad(
      name,
      "an asynchronous limit cannot have a penalty: its denials write nothing",
    );
  const shards = config.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1)
    bad(
      name,
      `shards must be a whole number >= 1 (got ${shown(config.shards)})`,
    );
  if (shards > MAX_SHARDS)
    bad(
      name,
      `shards (${shards}) must be at most ${MAX_SHARDS}; a changed shard count reads every state of a key once`,
    );
  const capacity = c.capacity ?? config.rate;
  if (shards > capacity)
    bad(
      name,
      `shards (${shards}) must not exceed the capacity (${capacity}): each shard must hold at least one token`,
    );
}

/**
 * Throws `INVALID_ARGUMENT` unless `count` is a whole number >= 1 that the
 * limit could ever admit (at most its capacity, plus `maxReserved` when reserving).
 */
export function validateCount(
  name: string,
  config: WireConfig,
  count: number,
  reserve: boolean,
): void {
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1)
    bad(
      name,
      `count must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER} (got ${shown(count)})`,
      {
        count: Number.isFinite(count) ? count : String(count),
      },
    );
  const capacity = config.capacity ?? config.rate;
  const ceiling = reserve
    ? config.maxReserved === undefined
      ? Infinity
      : capacity + config.maxReserved
    : capacity;
  if (count > ceiling)
    bad(
      name,
      `count ${count} can never be admitted: it exceeds the ${reserve ? "capacity plus maxReserved" : "capacity"} (${ceiling})`,
      { count },
    );
}
