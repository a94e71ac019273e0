import { convexTest } from "convex-test";
import {
  componentsGeneric,
  defineSchema,
  mutationGeneric,
} from "convex/server";
import { v } from "convex/values";
import opskit from "convex-opskit/test";
import { MINUTE, RateLimiter } from "convex-opskit/rateLimiter";
import { anyApi } from "convex/server";
import { expect, test } from "vitest";
import type { ComponentApi } from "convex-opskit/rateLimiter/_generated/component.js";
import * as self from "./register.test.js";

// An app that installed the rate limiter under another instance name.
const components = componentsGeneric() as unknown as {
  limits: ComponentApi<"limits">;
};
const limiter = new RateLimiter(components.limits, {
  once: { kind: "fixed window", rate: 1, period: MINUTE },
});

export const hit = mutationGeneric({
  args: {},
  returns: v.boolean(),
  handler: async (ctx) => (await limiter.limit(ctx, "once")).ok,
});

const modules = {
  "./register.test.ts": async () => self,
  "./_generated/api.ts": async () => ({}),
};

test("a component registered under a custom instance name is called through that name", async () => {
  const t = convexTest(defineSchema({}), modules);
  opskit.rateLimiter.register(t, "limits");
  expect(await t.mutation(anyApi["register.test"].hit, {})).toBe(true);
  expect(await t.mutation(anyApi["register.test"].hit, {})).toBe(false);
});

test("without registration the call fails: registration is what makes the component exist", async () => {
  const t = convexTest(defineSchema({}), modules);
  await expect(t.mutation(anyApi["register.test"].hit, {})).rejects.toThrow(
    /limits/,
  );
});

test("register(t, which, name) installs one component under a name; register(t) all four", async () => {
  const t = convexTest(defineSchema({}), modules);
  opskit.register(t);
  opskit.register(t, "rateLimiter", "limits");
  expect(await t.mutation(anyApi["register.test"].hit, {})).toBe(true);
});
