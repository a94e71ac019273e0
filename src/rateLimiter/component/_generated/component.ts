/* eslint-disable */
/**
 * Generated `ComponentApi` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type { FunctionReference } from "convex/server";

/**
 * A utility for referencing a Convex component's exposed API.
 *
 * Useful when expecting a parameter like `components.myComponent`.
 * Usage:
 * ```ts
 * async function myFunction(ctx: QueryCtx, component: ComponentApi) {
 *   return ctx.runQuery(component.someFile.someQuery, { ...args });
 * }
 * ```
 */
export type ComponentApi<Name extends string | undefined = string | undefined> =
  {
    async: {
      enqueue: FunctionReference<
        "mutation",
        "internal",
        {
          config: {
            applyUpdates?: string;
            capacity?: number;
            kind: string;
            maxReserved?: number;
            penalty?: number;
            period: number;
            rate: number;
            shadow?: boolean;
            shards?: number;
            start?: number | null;
          };
          count?: number;
          key?: string;
          name: string;
          reserve?: boolean;
        },
        null,
        Name
      >;
      enqueueReset: FunctionReference<
        "mutation",
        "internal",
        { key?: string; name: string },
        null,
        Name
      >;
    };
    lib: {
      check: FunctionReference<
        "query",
        "internal",
        {
          config: {
            applyUpdates?: string;
            capacity?: number;
            kind: string;
            maxReserved?: number;
            penalty?: number;
            period: number;
            rate: number;
            shadow?: boolean;
            shards?: number;
            start?: number | null;
          };
          count?: number;
          key?: string;
          name: string;
          reserve?: boolean;
        },
        {
          denials?: Array<{
            key?: string;
            name: string;
            retryAfter: number;
            shadow?: boolean;
          }>;
          limit: number;
          ok: boolean;
          remaining: number;
          resetAfter: number;
          retryAfter?: number;
        },
        Name
      >;
      checkAll: FunctionReference<
        "query",
        "internal",
        {
          requests: Array<{
            config: {
              applyUpdates?: string;
              capacity?: number;
              kind: string;
              maxReserved?: number;
              penalty?: number;
              period: number;
              rate: number;
              shadow?: boolean;
              shards?: number;
              start?: number | null;
            };
            count?: number;
            key?: string;
            name: string;
            reserve?: boolean;
          }>;
        },
        {
          denials?: Array<{
            key?: string;
            name: string;
            retryAfter: number;
            shadow?: boolean;
          }>;
          limit: number;
          ok: boolean;
          remaining: number;
          resetAfter: number;
          retryAfter?: number;
        },
        Name
      >;
      countStates: FunctionReference<
        "query",
        "internal",
        { upTo?: number },
        number,
        Name
      >;
      getServerTime: FunctionReference<
        "mutation",
        "internal",
        {},
        number,
        Name
      >;
      getValue: FunctionReference<
        "query",
        "internal",
        {
          config: {
            applyUpdates?: "transactionally" | "asynchronously";
            capacity?: number;
            kind: "token bucket" | "fixed window" | "sliding window" | "gcra";
            maxReserved?: number;
            penalty?: number;
            period: number;
            rate: number;
            shadow?: boolean;
            shards?: number;
            start?: number | null;
          };
          key?: string;
          name: string;
          sampleShards?: number;
        },
        {
          config: {
            applyUpdates?: "transactionally" | "asynchronously";
            capacity?: number;
            kind: "token bucket" | "fixed window" | "sliding window" | "gcra";
            maxReserved?: number;
            penalty?: number;
            period: number;
            rate: number;
            shadow?: boolean;
            shards?: number;
            start?: number | null;
          };
          penaltyUntil?: number;
          shard: number;
          states: Array<{
            prev?: number;
            shard: number;
            ts: number;
            value: number;
          }>;
          ts: number;
          value: number;
          windowStart?: number;
        },
        Name
      >;
      limit: FunctionReference<
        "mutation",
        "internal",
        {
          config: {
            applyUpdates?: string;
            capacity?: number;
            kind: string;
            maxReserved?: number;
            penalty?: number;
            period: number;
            rate: number;
            shadow?: boolean;
            shards?: number;
            start?: number | null;
          };
          count?: number;
          key?: string;
          name: string;
          reserve?: boolean;
        },
        {
          denials?: Array<{
            key?: string;
            name: string;
            retryAfter: number;
            shadow?: boolean;
          }>;
          limit: number;
          ok: boolean;
          remaining: number;
          resetAfter: number;
          retryAfter?: number;
        },
        Name
      >;
      limitAll: FunctionReference<
        "mutation",
        "internal",
        {
          requests: Array<{
            config: {
              applyUpdates?: string;
              capacity?: number;
              kind: string;
              maxReserved?: number;
              penalty?: number;
              period: number;
              rate: number;
              shadow?: boolean;
              shards?: number;
              start?: number | null;
            };
            count?: number;
            key?: string;
            name: string;
            reserve?: boolean;
          }>;
        },
        {
          denials?: Array<{
            key?: string;
            name: string;
            retryAfter: number;
            shadow?: boolean;
          }>;
          limit: number;
          ok: boolean;
          remaining: number;
          resetAfter: number;
          retryAfter?: number;
        },
        Name
      >;
      refund: FunctionReference<
        "mutation",
        "internal",
        {
          config: {
            applyUpdates?: "transactionally" | "asynchronously";
            capacity?: number;
            kind: "token bucket" | "fixed window" | "sliding window" | "gcra";
            maxReserved?: number;
            penalty?: number;
            period: number;
            rate: number;
            shadow?: boolean;
            shards?: number;
            start?: number | null;
          };
          count?: number;
          key?: string;
          name: string;
        },
        { credited: number },
        Name
      >;
      reset: FunctionReference<
        "mutation",
        "internal",
        { key?: string; name: string },
        null,
        Name
      >;
    };
  };
