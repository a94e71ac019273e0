/** The "Production limits" example of docs/auditLog.md: verifying a whole log from an action. */
import { anyApi } from "convex/server";
import { expect, test } from "vitest";
import { auditTest } from "./setup.js";
import { schema } from "./withAuthz.js";
import { fakeClock } from "../helpers.js";

const api = anyApi.withAuthz;
const reason = "SUP-1234 customer asked to downgrade";

fakeClock();

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
