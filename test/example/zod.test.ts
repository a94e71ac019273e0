/**
 * The example app uses zod where `v` cannot say enough: a post's title must
 * not be blank and its body is bounded (`posts:create`, a zod authz
 * builder); a moderator's fix obeys the same bounds (`admin:fixPost`, a zod
 * admin mutation). A refused call writes nothing, not even an audit record.
 */
import { ConvexError } from "convex/values";
import { describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { MAX_BODY } from "../../convex/posts";
import { exampleApp } from "./setup";
import { fakeClock } from "../helpers.js";

async function seeded() {
  const t = await exampleApp();
  await t.mutation(internal.init.seed, {});
  return t;
}
async function code(p: Promise<unknown>) {
  try {
    await p;
    return "OK";
  } catch (e) {
    return e instanceof ConvexError
      ? (e.data as { code: string }).code
      : String(e);
  }
}

fakeClock("2026-11-26T09:00:00Z");

describe("zod in the example app", () => {
  test("posts:create refuses a blank title or an oversized body, writing nothing", async () => {
    const t = await seeded();
    const bob = t.withIdentity({ subject: "bob" });
    const count = async () =>
      (await bob.query(api.posts.list, { team: "acme" })).length;
    const before = await count();
    expect(
      await code(
        bob.mutation(api.posts.create, {
          team: "acme",
          title: "   ",
          body: "x",
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(
      await code(
        bob.mutation(api.posts.create, {
          team: "acme",
          title: "Long",
          body: "x".repeat(MAX_BODY + 1),
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(await count()).toBe(before);
    await bob.mutation(api.posts.create, {
      team: "acme",
      title: "  Trimmed  ",
      body: "x".repeat(MAX_BODY),
    });
    const titles = (await bob.query(api.posts.list, { team: "acme" })).map(
      (p) => p.title,
    );
    expect(titles).toContain("Trimmed");
  });

  test("admin:fixPost refuses a blank title before anything is recorded", async () => {
    const t = await seeded();
    const alice = t.withIdentity({ subject: "alice" });
    const [post] = await t
      .withIdentity({ subject: "bob" })
      .query(api.posts.list, { team: "acme" });
    const trail = async () =>
      (
        await alice.query(api.admin.auditTrail, {
          table: "posts",
          paginationOpts: { numItems: 10, cursor: null },
        })
      ).page.length;
    const before = await trail();
    expect(
      await code(
        alice.mutation(api.admin.fixPost, {
          team: "acme",
          postId: post.id,
          title: " ",
          reason: "MOD-12 clearer title",
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
    expect(await trail()).toBe(before);
  });
});
