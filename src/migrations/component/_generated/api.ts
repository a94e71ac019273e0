/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type * as batching from "../batching.js";
import type * as budget from "../budget.js";
import type * as clear from "../clear.js";
import type * as describe from "../describe.js";
import type * as end from "../end.js";
import type * as engine from "../engine.js";
import type * as lib from "../lib.js";
import type * as limits from "../limits.js";
import type * as outcome from "../outcome.js";
import type * as progress from "../progress.js";
import type * as rollback from "../rollback.js";
import type * as rollbackStart from "../rollbackStart.js";
import type * as runs from "../runs.js";
import type * as start from "../start.js";
import type * as status from "../status.js";
import type * as walk from "../walk.js";

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import { anyApi, componentsGeneric } from "convex/server";

const fullApi: ApiFromModules<{
  batching: typeof batching;
  budget: typeof budget;
  clear: typeof clear;
  describe: typeof describe;
  end: typeof end;
  engine: typeof engine;
  lib: typeof lib;
  limits: typeof limits;
  outcome: typeof outcome;
  progress: typeof progress;
  rollback: typeof rollback;
  rollbackStart: typeof rollbackStart;
  runs: typeof runs;
  start: typeof start;
  status: typeof status;
  walk: typeof walk;
}> = anyApi as any;

/**
 * A utility for referencing Convex functions in your app's public API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
export const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
> = anyApi as any;

/**
 * A utility for referencing Convex functions in your app's internal API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = internal.myModule.myFunction;
 * ```
 */
export const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
> = anyApi as any;

export const components = componentsGeneric() as unknown as {};
