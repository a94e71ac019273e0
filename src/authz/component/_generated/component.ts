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
    grants: {
      getUserGrants: FunctionReference<
        "query",
        "internal",
        { userId: string },
        Array<{ expiresAt?: number; role: string; scope?: string }>,
        Name
      >;
      grantRole: FunctionReference<
        "mutation",
        "internal",
        { expiresAt?: number; role: string; scope?: string; userId: string },
        { created: boolean },
        Name
      >;
      listMembers: FunctionReference<
        "query",
        "internal",
        {
          paginationOpts: {
            cursor: string | null;
            endCursor?: string | null;
            id?: number;
            maximumBytesRead?: number;
            maximumRowsRead?: number;
            numItems: number;
          };
          scope?: string;
        },
        {
          continueCursor: string;
          isDone: boolean;
          page: Array<{ expiresAt?: number; role: string; userId: string }>;
          pageStatus?: "SplitRecommended" | "SplitRequired" | null;
          splitCursor?: string | null;
        },
        Name
      >;
      revokeRole: FunctionReference<
        "mutation",
        "internal",
        { role: string; scope?: string; userId: string },
        { revoked: boolean },
        Name
      >;
    };
  };
