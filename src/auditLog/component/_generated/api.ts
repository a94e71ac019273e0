/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type * as chain from "../chain.js";
import type * as chainCheck from "../chainCheck.js";
import type * as convert from "../convert.js";
import type * as hashChain from "../hashChain.js";
import type * as log from "../log.js";
import type * as paging from "../paging.js";
import type * as queries from "../queries.js";
import type * as retention from "../retention.js";
import type * as sealing from "../sealing.js";
import type * as storage from "../storage.js";

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import { anyApi, componentsGeneric } from "convex/server";

const fullApi: ApiFromModules<{
  chain: typeof chain;
  chainCheck: typeof chainCheck;
  convert: typeof convert;
  hashChain: typeof hashChain;
  log: typeof log;
  paging: typeof paging;
  queries: typeof queries;
  retention: typeof retention;
  sealing: typeof sealing;
  storage: typeof storage;
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
