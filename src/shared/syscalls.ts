/**
 * Convex's `ctx.meta` readers called without a `ctx`, through the runtime's
 * syscalls (as `@convex-dev/migrations` exports them). Where the runtime
 * lacks them they throw the same coded error as the guarded readers of
 * `./meta.ts`.
 */
import type { TransactionMetrics } from "convex/server";
import { metaMissing } from "./meta.js";

type Syscalls = {
  asyncSyscall?: (op: string, args: string) => Promise<string>;
};

async function syscall<T>(op: string, what: string): Promise<T> {
  let convex: Syscalls | undefined;
  let call: Syscalls["asyncSyscall"];
  try {
    convex = (globalThis as { Convex?: Syscalls }).Convex;
    call = convex?.asyncSyscall;
  } catch (e) {
    // Outside a Convex function (or a test harness's context).
    throw metaMissing(what, e);
  }
  if (typeof call !== "function") throw metaMissing(what);
  let out: string;
  try {
    out = await call.call(convex, op, JSON.stringify({}));
  } catch (e) {
    throw metaMissing(what, e);
  }
  return JSON.parse(out) as T;
}

/**
 * The running function's name and component path, read without a `ctx`
 * (same name and behaviour as `@convex-dev/migrations`' export). Prefer
 * `ctx.meta.getFunctionMetadata()` where a `ctx` is at hand. Throws a coded
 * `INVALID_ARGUMENT` naming the Convex version needed where the runtime lacks it.
 *
 * @example
 * const { name } = await getFunctionMetadata(); // "migrations:setDefault"
 */
export async function getFunctionMetadata(): Promise<{
  name: string;
  componentPath: string;
}> {
  return await syscall("1.0/getFunctionMetadata", "getFunctionMetadata");
}

/**
 * How much of the current transaction's limits is used and remains, read
 * without a `ctx` (same name and behaviour as `@convex-dev/migrations`'
 * export). Prefer `ctx.meta.getTransactionMetrics()` where a `ctx` is at hand.
 *
 * @example
 * const { documentsWritten } = await getTransactionMetrics();
 */
export async function getTransactionMetrics(): Promise<TransactionMetrics> {
  return await syscall("1.0/getTransactionMetrics", "getTransactionMetrics");
}
