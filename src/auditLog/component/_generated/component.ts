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
    chain: {
      head: FunctionReference<
        "query",
        "internal",
        {},
        { hash: string; seq: number; tailHash: string; tailSeq: number },
        Name
      >;
      seal: FunctionReference<
        "mutation",
        "internal",
        {},
        { more: boolean; sealed: number },
        Name
      >;
      verify: FunctionReference<
        "query",
        "internal",
        {
          from?: number;
          fromSeq?: number;
          fromSnapshot?: number;
          limit?: number;
          to?: number;
        },
        {
          checked: number;
          firstSeq: number | null;
          isDone: boolean;
          lastSeq: number | null;
          nextSeq: number;
          nextSnapshot: number;
          pendingSeal: boolean;
          problems: Array<{
            entryId?: string;
            entryIndex?: number;
            kind:
              | "missingOperation"
              | "brokenLink"
              | "operationEdited"
              | "entryEdited"
              | "entryMissing"
              | "entryAdded"
              | "headMismatch";
            message: string;
            operationId?: string;
            seq: number;
          }>;
        },
        Name
      >;
    };
    log: {
      append: FunctionReference<
        "mutation",
        "internal",
        {
          entries: Array<{
            after: any | null;
            before: any | null;
            changed: Array<string>;
            docId: string;
            kind: "insert" | "patch" | "replace" | "delete";
            table: string;
          }>;
          entryCount?: number;
          operation: {
            actorId: string;
            actorKind: string;
            args: any;
            functionName: string;
            reason: string;
            request: {
              ip: string | null;
              requestId: string;
              scheduledFunctionId: string | null;
              userAgent: string | null;
            } | null;
            revertOf?: { entryId?: string; operationId: string };
            roles: Array<string>;
            tables: Array<string>;
            time: number;
          };
        },
        string,
        Name
      >;
      appendEntries: FunctionReference<
        "mutation",
        "internal",
        {
          entries: Array<{
            after: any | null;
            before: any | null;
            changed: Array<string>;
            docId: string;
            kind: "insert" | "patch" | "replace" | "delete";
            table: string;
          }>;
          fromIndex: number;
          operationId: string;
        },
        null,
        Name
      >;
    };
    queries: {
      documentAt: FunctionReference<
        "query",
        "internal",
        { at: number; docId: string; table: string },
        { doc: any | null; entryId?: string; known: boolean },
        Name
      >;
      getEntry: FunctionReference<
        "query",
        "internal",
        { entryId: string },
        {
          actorId: string;
          after: any | null;
          before: any | null;
          changed: Array<string>;
          changedTotal?: number;
          docId: string;
          entryId: string;
          functionName: string;
          index: number;
          kind: "insert" | "patch" | "replace" | "delete";
          operationId: string;
          table: string;
          time: number;
        } | null,
        Name
      >;
      getOperation: FunctionReference<
        "query",
        "internal",
        { fromIndex?: number; limit?: number; operationId: string },
        {
          entries: Array<{
            actorId: string;
            after: any | null;
            before: any | null;
            changed: Array<string>;
            changedTotal?: number;
            docId: string;
            entryId: string;
            functionName: string;
            index: number;
            kind: "insert" | "patch" | "replace" | "delete";
            operationId: string;
            table: string;
            time: number;
          }>;
          nextIndex: number | null;
          operation: {
            actorId: string;
            actorKind: string;
            args: any;
            entryCount: number;
            functionName: string;
            hash?: string;
            operationId: string;
            reason: string;
            request: {
              ip: string | null;
              requestId: string;
              scheduledFunctionId: string | null;
              userAgent: string | null;
            } | null;
            revertOf?: { entryId?: string; operationId: string };
            roles: Array<string>;
            seq?: number;
            tables: Array<string>;
            time: number;
          };
        } | null,
        Name
      >;
      latestEntries: FunctionReference<
        "query",
        "internal",
        { docIds: Array<string>; table: string },
        Array<{
          docId: string;
          entry: {
            after: any | null;
            afterHash: string;
            afterLoaded: boolean;
            entryId: string;
            kind: "insert" | "patch" | "replace" | "delete";
          } | null;
        }>,
        Name
      >;
      listEntries: FunctionReference<
        "query",
        "internal",
        {
          by:
            | { document: { docId: string; table: string } }
            | { table: string }
            | { actorId: string }
            | { kind: "insert" | "patch" | "replace" | "delete" }
            | { actorId: string; table: string }
            | {
                actorId: string;
                kind: "insert" | "patch" | "replace" | "delete";
              }
            | {};
          from?: number;
          order?: "asc" | "desc";
          paginationOpts: {
            cursor: string | null;
            endCursor?: string | null;
            id?: number;
            maximumBytesRead?: number;
            maximumRowsRead?: number;
            numItems: number;
          };
          to?: number;
        },
        {
          continueCursor: string;
          isDone: boolean;
          page: Array<{
            actorId: string;
            after: any | null;
            before: any | null;
            changed: Array<string>;
            changedTotal?: number;
            docId: string;
            entryId: string;
            functionName: string;
            index: number;
            kind: "insert" | "patch" | "replace" | "delete";
            operationId: string;
            table: string;
            time: number;
          }>;
          pageStatus?: "SplitRecommended" | "SplitRequired" | null;
          splitCursor?: string | null;
        },
        Name
      >;
      listOperations: FunctionReference<
        "query",
        "internal",
        {
          by: { actorId: string } | { functionName: string } | {};
          from?: number;
          order?: "asc" | "desc";
          paginationOpts: {
            cursor: string | null;
            endCursor?: string | null;
            id?: number;
            maximumBytesRead?: number;
            maximumRowsRead?: number;
            numItems: number;
          };
          to?: number;
        },
        {
          continueCursor: string;
          isDone: boolean;
          page: Array<{
            actorId: string;
            actorKind: string;
            args: any;
            entryCount: number;
            functionName: string;
            hash?: string;
            operationId: string;
            reason: string;
            request: {
              ip: string | null;
              requestId: string;
              scheduledFunctionId: string | null;
              userAgent: string | null;
            } | null;
            revertOf?: { entryId?: string; operationId: string };
            roles: Array<string>;
            seq?: number;
            tables: Array<string>;
            time: number;
          }>;
          pageStatus?: "SplitRecommended" | "SplitRequired" | null;
          splitCursor?: string | null;
        },
        Name
      >;
      recordedDocuments: FunctionReference<
        "query",
        "internal",
        {
          afterDocId: string | null;
          limit: number;
          table: string;
          upToDocId?: string;
        },
        {
          continueCursor: string | null;
          documents: Array<{
            docId: string;
            entry: {
              after: any | null;
              afterHash: string;
              afterLoaded: boolean;
              entryId: string;
              kind: "insert" | "patch" | "replace" | "delete";
            };
          }>;
          isDone: boolean;
        },
        Name
      >;
    };
    retention: {
      listRuns: FunctionReference<
        "query",
        "internal",
        { limit?: number },
        Array<{
          anchorHash?: string;
          anchorSeq?: number;
          batches: number;
          cutoff: number;
          deletedEntries: number;
          deletedOperations: number;
          finishedAt?: number;
          runId: string;
          startedAt: number;
          status: "running" | "done";
        }>,
        Name
      >;
      start: FunctionReference<
        "mutation",
        "internal",
        { maxAgeMs: number },
        { runId: string; started: boolean },
        Name
      >;
    };
  };
