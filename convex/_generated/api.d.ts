/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type * as account from "../account.js";
import type * as admin from "../admin.js";
import type * as audit from "../audit.js";
import type * as auditJobs from "../auditJobs.js";
import type * as authz from "../authz.js";
import type * as crons from "../crons.js";
import type * as init from "../init.js";
import type * as limits from "../limits.js";
import type * as migrations from "../migrations.js";
import type * as ops from "../ops.js";
import type * as pins from "../pins.js";
import type * as posts from "../posts.js";
import type * as users from "../users.js";

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";

declare const fullApi: ApiFromModules<{
  account: typeof account;
  admin: typeof admin;
  audit: typeof audit;
  auditJobs: typeof auditJobs;
  authz: typeof authz;
  crons: typeof crons;
  init: typeof init;
  limits: typeof limits;
  migrations: typeof migrations;
  ops: typeof ops;
  pins: typeof pins;
  posts: typeof posts;
  users: typeof users;
}>;

/**
 * A utility for referencing Convex functions in your app's public API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;

/**
 * A utility for referencing Convex functions in your app's internal API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = internal.myModule.myFunction;
 * ```
 */
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;

export declare const components: {
  authz: import("convex-opskit/authz/_generated/component.js").ComponentApi<"authz">;
  auditLog: import("convex-opskit/auditLog/_generated/component.js").ComponentApi<"auditLog">;
  migrations: import("convex-opskit/migrations/_generated/component.js").ComponentApi<"migrations">;
  rateLimiter: import("convex-opskit/rateLimiter/_generated/component.js").ComponentApi<"rateLimiter">;
};
