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
    lib: {
      cancel: FunctionReference<
        "mutation",
        "internal",
        { name: string },
        {
          batchSize?: number;
          batches: number;
          changed: number;
          checksum?: string;
          codeChanged: boolean;
          cursor?: string | null;
          docsPerSecond?: number;
          dryRun: boolean;
          error?: string;
          etaMs?: number;
          failed: number;
          isDone: boolean;
          latestEnd?: number;
          latestStart: number;
          name: string;
          next?: Array<string>;
          pendingFailures: number;
          percent?: number;
          processed: number;
          runId?: string;
          state:
            | "inProgress"
            | "success"
            | "failed"
            | "canceled"
            | "paused"
            | "unknown";
          unchanged: number;
          warnings: Array<string>;
        },
        Name
      >;
      cancelAll: FunctionReference<
        "mutation",
        "internal",
        {},
        Array<{
          batchSize?: number;
          batches: number;
          changed: number;
          checksum?: string;
          codeChanged: boolean;
          cursor?: string | null;
          docsPerSecond?: number;
          dryRun: boolean;
          error?: string;
          etaMs?: number;
          failed: number;
          isDone: boolean;
          latestEnd?: number;
          latestStart: number;
          name: string;
          next?: Array<string>;
          pendingFailures: number;
          percent?: number;
          processed: number;
          runId?: string;
          state:
            | "inProgress"
            | "success"
            | "failed"
            | "canceled"
            | "paused"
            | "unknown";
          unchanged: number;
          warnings: Array<string>;
        }>,
        Name
      >;
      clearAll: FunctionReference<
        "mutation",
        "internal",
        { before?: number },
        null,
        Name
      >;
      getReport: FunctionReference<
        "query",
        "internal",
        { dryRun?: boolean; failureLimit?: number; name: string },
        {
          args: any;
          failures: Array<{
            attempts: number;
            id: string;
            message: string;
            resolved: boolean;
          }>;
          fieldChanges: Array<{ count: number; field: string }>;
          journal: boolean;
          rolledBack: boolean;
          samples: Array<{ after: any | null; before: any; id: string }>;
          status: {
            batchSize?: number;
            batches: number;
            changed: number;
            checksum?: string;
            codeChanged: boolean;
            cursor?: string | null;
            docsPerSecond?: number;
            dryRun: boolean;
            error?: string;
            etaMs?: number;
            failed: number;
            isDone: boolean;
            latestEnd?: number;
            latestStart: number;
            name: string;
            next?: Array<string>;
            pendingFailures: number;
            percent?: number;
            processed: number;
            runId?: string;
            state:
              | "inProgress"
              | "success"
              | "failed"
              | "canceled"
              | "paused"
              | "unknown";
            unchanged: number;
            warnings: Array<string>;
          };
        } | null,
        Name
      >;
      getStatus: FunctionReference<
        "query",
        "internal",
        { limit?: number; names?: Array<string> },
        Array<{
          batchSize?: number;
          batches: number;
          changed: number;
          checksum?: string;
          codeChanged: boolean;
          cursor?: string | null;
          docsPerSecond?: number;
          dryRun: boolean;
          error?: string;
          etaMs?: number;
          failed: number;
          isDone: boolean;
          latestEnd?: number;
          latestStart: number;
          name: string;
          next?: Array<string>;
          pendingFailures: number;
          percent?: number;
          processed: number;
          runId?: string;
          state:
            | "inProgress"
            | "success"
            | "failed"
            | "canceled"
            | "paused"
            | "unknown";
          unchanged: number;
          warnings: Array<string>;
        }>,
        Name
      >;
      listBatches: FunctionReference<
        "query",
        "internal",
        { dryRun?: boolean; limit?: number; name: string },
        Array<{
          changed: number;
          failed: number;
          outcome: "committed" | "rolledBack" | "limit";
          processed: number;
          size: number;
          unchanged: number;
          usage?: {
            bytesRead: number;
            bytesWritten: number;
            databaseQueries?: number;
            documentsRead: number;
            documentsWritten: number;
            durationMs: number;
            functionsScheduled?: number;
            scheduledFunctionArgsBytes?: number;
          };
        }>,
        Name
      >;
      listFailures: FunctionReference<
        "query",
        "internal",
        {
          dryRun?: boolean;
          includeResolved?: boolean;
          limit?: number;
          name: string;
        },
        Array<{
          attempts: number;
          id: string;
          message: string;
          resolved: boolean;
        }>,
        Name
      >;
      listPending: FunctionReference<
        "query",
        "internal",
        { names: Array<string> },
        Array<{
          name: string;
          reason:
            | "neverRun"
            | "inProgress"
            | "paused"
            | "failed"
            | "canceled"
            | "incomplete"
            | "codeChanged";
          status?: {
            batchSize?: number;
            batches: number;
            changed: number;
            checksum?: string;
            codeChanged: boolean;
            cursor?: string | null;
            docsPerSecond?: number;
            dryRun: boolean;
            error?: string;
            etaMs?: number;
            failed: number;
            isDone: boolean;
            latestEnd?: number;
            latestStart: number;
            name: string;
            next?: Array<string>;
            pendingFailures: number;
            percent?: number;
            processed: number;
            runId?: string;
            state:
              | "inProgress"
              | "success"
              | "failed"
              | "canceled"
              | "paused"
              | "unknown";
            unchanged: number;
            warnings: Array<string>;
          };
        }>,
        Name
      >;
      listRuns: FunctionReference<
        "query",
        "internal",
        { limit?: number; name: string },
        Array<{
          batchSize?: number;
          batches: number;
          changed: number;
          checksum?: string;
          codeChanged: boolean;
          cursor?: string | null;
          docsPerSecond?: number;
          dryRun: boolean;
          error?: string;
          etaMs?: number;
          failed: number;
          isDone: boolean;
          latestEnd?: number;
          latestStart: number;
          name: string;
          next?: Array<string>;
          pendingFailures: number;
          percent?: number;
          processed: number;
          runId?: string;
          state:
            | "inProgress"
            | "success"
            | "failed"
            | "canceled"
            | "paused"
            | "unknown";
          unchanged: number;
          warnings: Array<string>;
        }>,
        Name
      >;
      migrate: FunctionReference<
        "mutation",
        "internal",
        {
          batchSize?: number;
          cursor?: string | null;
          dryRun: boolean;
          fnHandle: string;
          journal?: boolean;
          name: string;
          next?: Array<{ fnHandle: string; name: string }>;
          onError?: "stop" | "skip";
          oneBatchOnly?: boolean;
          reset?: boolean;
        },
        {
          batchSize?: number;
          batches: number;
          changed: number;
          checksum?: string;
          codeChanged: boolean;
          cursor?: string | null;
          docsPerSecond?: number;
          dryRun: boolean;
          error?: string;
          etaMs?: number;
          failed: number;
          isDone: boolean;
          latestEnd?: number;
          latestStart: number;
          name: string;
          next?: Array<string>;
          pendingFailures: number;
          percent?: number;
          processed: number;
          runId?: string;
          state:
            | "inProgress"
            | "success"
            | "failed"
            | "canceled"
            | "paused"
            | "unknown";
          unchanged: number;
          warnings: Array<string>;
        },
        Name
      >;
      pause: FunctionReference<
        "mutation",
        "internal",
        { name: string },
        {
          batchSize?: number;
          batches: number;
          changed: number;
          checksum?: string;
          codeChanged: boolean;
          cursor?: string | null;
          docsPerSecond?: number;
          dryRun: boolean;
          error?: string;
          etaMs?: number;
          failed: number;
          isDone: boolean;
          latestEnd?: number;
          latestStart: number;
          name: string;
          next?: Array<string>;
          pendingFailures: number;
          percent?: number;
          processed: number;
          runId?: string;
          state:
            | "inProgress"
            | "success"
            | "failed"
            | "canceled"
            | "paused"
            | "unknown";
          unchanged: number;
          warnings: Array<string>;
        },
        Name
      >;
      resume: FunctionReference<
        "mutation",
        "internal",
        { name: string },
        {
          batchSize?: number;
          batches: number;
          changed: number;
          checksum?: string;
          codeChanged: boolean;
          cursor?: string | null;
          docsPerSecond?: number;
          dryRun: boolean;
          error?: string;
          etaMs?: number;
          failed: number;
          isDone: boolean;
          latestEnd?: number;
          latestStart: number;
          name: string;
          next?: Array<string>;
          pendingFailures: number;
          percent?: number;
          processed: number;
          runId?: string;
          state:
            | "inProgress"
            | "success"
            | "failed"
            | "canceled"
            | "paused"
            | "unknown";
          unchanged: number;
          warnings: Array<string>;
        },
        Name
      >;
      rollback: FunctionReference<
        "mutation",
        "internal",
        { name: string },
        {
          batchSize?: number;
          batches: number;
          changed: number;
          checksum?: string;
          codeChanged: boolean;
          cursor?: string | null;
          docsPerSecond?: number;
          dryRun: boolean;
          error?: string;
          etaMs?: number;
          failed: number;
          isDone: boolean;
          latestEnd?: number;
          latestStart: number;
          name: string;
          next?: Array<string>;
          pendingFailures: number;
          percent?: number;
          processed: number;
          runId?: string;
          state:
            | "inProgress"
            | "success"
            | "failed"
            | "canceled"
            | "paused"
            | "unknown";
          unchanged: number;
          warnings: Array<string>;
        },
        Name
      >;
      runPending: FunctionReference<
        "mutation",
        "internal",
        {
          batchSize?: number;
          dryRun?: boolean;
          migrations: Array<{ fnHandle: string; name: string }>;
        },
        {
          pending: Array<{
            name: string;
            reason:
              | "neverRun"
              | "inProgress"
              | "paused"
              | "failed"
              | "canceled"
              | "incomplete"
              | "codeChanged";
            status?: {
              batchSize?: number;
              batches: number;
              changed: number;
              checksum?: string;
              codeChanged: boolean;
              cursor?: string | null;
              docsPerSecond?: number;
              dryRun: boolean;
              error?: string;
              etaMs?: number;
              failed: number;
              isDone: boolean;
              latestEnd?: number;
              latestStart: number;
              name: string;
              next?: Array<string>;
              pendingFailures: number;
              percent?: number;
              processed: number;
              runId?: string;
              state:
                | "inProgress"
                | "success"
                | "failed"
                | "canceled"
                | "paused"
                | "unknown";
              unchanged: number;
              warnings: Array<string>;
            };
          }>;
          started: string | null;
        },
        Name
      >;
    };
  };
