/** The "Production limits" example of docs/auditLog.md: verifying a whole log from an action. */
import { anyApi } from "convex/server";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { auditTest } from "./setup.js";
import { schema } from "./withAuthz.js";

const api = anyApi.withAuthz;
const reason = "SUP-1234 customer asked to downgrade";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
});
afterEach(() => vi.useRealTimers());

test("verifyAll checks every sealed operation and counts problems", async () => {
  const t = auditTest(
    { "./withAuthz.ts": () => import("./withAuthz.js") },
    schema,
  );
  const userId = await t.mutation(api.seedUser, { name: "ann" });
  await t.mutation(api.grant, { userId: "sam", role: "support" });
  await t.mutation(api.grant, { userId: "ada", role: "auditor" });
  const sam = t.withIdentity({ subject: "sam", tokenIdentifier: "sam" });
  const ada = t.withIdentity({ subject: "ada", tokenIdentifier: "ada" });
  for (const role of ["a", "b", "c"])
    await sam.mutation(api.setUserRole, { userId, role, reason });
  await t.mutation(api.seal, {});
  expect(await ada.action(api.verifyAll, {})).toEqual({
    checked: 3,
    problems: 0,
  });
});
