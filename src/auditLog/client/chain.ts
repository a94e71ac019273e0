/**
 * Verifying the hash chain from the app: the component checks one page per
 * query; this walks the pages, resuming where each stopped, and stops when
 * a query's read budget is spent. Plus the start of a retention run.
 */
import type { RunMutationCtx, RunQueryCtx } from "../../shared/ctx.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import type { ComponentApi } from "../component/_generated/component.js";
import type { ChainProblem } from "../shared/validators.js";
import type { VerifyArgs, VerifyResult } from "./queryTypes.js";

/** `AuditLog.verify`: the sealed chain, page by page. */
export async function verify(
  component: ComponentApi,
  ctx: RunQueryCtx,
  args: VerifyArgs,
): Promise<VerifyResult> {
  const maxPages = args.maxPages ?? 100;
  const problems: ChainProblem[] = [];
  let checked = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let pendingSeal = false;
  let fromSeq = args.fromSeq;
  let fromSnapshot = args.fromSeq !== undefined ? args.fromSnapshot : undefined;
  for (let pageNo = 0; ; pageNo++) {
    const page = await ctx.runQuery(component.chain.verify, {
      ...(fromSeq !== undefined
        ? { fromSeq }
        : args.from !== undefined
          ? { from: args.from }
          : {}),
      ...(fromSnapshot ? { fromSnapshot } : {}),
      ...(args.to !== undefined ? { to: args.to } : {}),
      ...(args.pageSize !== undefined ? { limit: args.pageSize } : {}),
    });
    problems.push(...page.problems);
    checked += page.checked;
    firstSeq ??= page.firstSeq;
    lastSeq = page.lastSeq ?? lastSeq;
    pendingSeal = page.pendingSeal;
    // A page that moved nothing found this transaction's read budget
    // spent (a query verifies within one transaction): stop here; from an
    // action every page gets a fresh budget.
    const stuck =
      !page.isDone &&
      page.nextSeq === fromSeq &&
      page.nextSnapshot === (fromSnapshot ?? 0);
    fromSeq = page.nextSeq;
    fromSnapshot = page.nextSnapshot;
    if (page.isDone || stuck || pageNo + 1 >= maxPages) {
      const result = {
        ok: problems.length === 0,
        checked,
        problems,
        pendingSeal,
        firstSeq,
        lastSeq,
        isDone: page.isDone,
        nextSeq: page.nextSeq,
        nextSnapshot: page.nextSnapshot,
      };
      if (!result.ok)
        logEvent("auditLog.tamper", {
          stage: "verify",
          problems: problems.length,
          first: problems[0],
        });
      return result;
    }
  }
}

/** `AuditLog.runRetention`: starts a run with the configured `maxAgeMs`. */
export async function runRetention(
  component: ComponentApi,
  retention: { maxAgeMs: number } | undefined,
  ctx: RunMutationCtx,
): Promise<{ runId: string; started: boolean }> {
  if (!retention)
    throw opskitError(
      "INVALID_ARGUMENT",
      "runRetention needs the retention option: new AuditLog(component, { retention: { maxAgeMs } })",
    );
  return ctx.runMutation(component.retention.start, {
    maxAgeMs: retention.maxAgeMs,
  });
}
