/**
 * What an admin call learns about itself from `ctx.meta`, degrading to a
 * fallback where the runtime (or a test harness) does not provide it.
 */
import type { RequestInfo } from "./shared/validators.js";

/** The running function's path from `ctx.meta`, or `fallback` where Convex does not say. */
export async function functionNameOf(
  ctx: { meta?: unknown },
  fallback: string | undefined,
): Promise<string> {
  try {
    const meta = ctx.meta as
      { getFunctionMetadata?: () => Promise<{ name: string }> } | undefined;
    const name = (await meta?.getFunctionMetadata?.())?.name;
    if (name) return name;
  } catch {
    // Older runtimes and some test harnesses lack function metadata.
  }
  return fallback ?? "unknown";
}

/** Request metadata where Convex provides it (never the auth token), else null. */
export async function requestInfo(ctx: {
  meta?: unknown;
}): Promise<RequestInfo | null> {
  try {
    const meta = ctx.meta as
      | {
          getRequestMetadata?: () => Promise<{
            ip: string | null;
            userAgent: string | null;
            requestId: string;
            scheduledFunctionId?: string | null;
          }>;
        }
      | undefined;
    const r = await meta?.getRequestMetadata?.();
    if (!r) return null;
    return {
      ip: r.ip ?? null,
      userAgent: r.userAgent ?? null,
      requestId: String(r.requestId),
      scheduledFunctionId: r.scheduledFunctionId ?? null,
    };
  } catch {
    return null;
  }
}
