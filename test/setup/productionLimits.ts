/**
 * Vitest setup file (vitest.config.ts `setupFiles`): every `convexTest(...)`
 * in this repo's tests runs under production limits, whichever helper built
 * it — convex-test's `transactionLimits` on (unless the test passes its own
 * `transactionLimits`), and `withProductionLimits` from `convex-opskit/test`
 * checking every table of the app and of each component after the test.
 * A test that stores oversized data on purpose says so with
 * `t.allowLimitViolations({ table, rule, reason })` or
 * `withProductionLimits(t, { afterEach: false })`.
 */
import { vi } from "vitest";

vi.mock("convex-test", async (importOriginal) => {
  const original = await importOriginal<typeof import("convex-test")>();
  const { withProductionLimits } = await import("convex-opskit/test");
  type Options = Exclude<
    Parameters<typeof original.convexTest>[0],
    undefined | { tables: unknown }
  >;
  function convexTest(...args: unknown[]) {
    const [first, modules] = args;
    const legacy =
      first !== undefined &&
      first !== null &&
      typeof first === "object" &&
      "tables" in first;
    const options = (
      legacy
        ? { schema: first, modules }
        : ((first as Options | undefined) ?? {})
    ) as Options;
    const t = original.convexTest({
      ...options,
      transactionLimits: options.transactionLimits ?? true,
    });
    return withProductionLimits(t, { schema: options.schema });
  }
  return { ...original, convexTest };
});
