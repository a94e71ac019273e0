/**
 * Independent attack on issue 15 (hot keys): `requestKey` behind proxies,
 * the contention policy's error recognition, asynchronous drains that were
 * lost, and the hot sharded path's strictness.
 */
import fc from "fast-check";
import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import { isContentionError, requestKey } from "../../src/rateLimiter/client.js";

const anon = { auth: { getUserIdentity: async () => null } };

describe("requestKey behind a proxy that appends to X-Forwarded-For", () => {
  it("spoofed X-Forwarded-For: a client-chosen first address never becomes the key", async () => {
    // A proxy that appends (nginx's $proxy_add_x_forwarded_for, load
    // balancers) turns a client's forged "X-Forwarded-For: <anything>" into
    // "<anything>, <real client ip>". Keying by the first address lets one
    // client rotate through unlimited keys, i.e. bypass the limit.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.ipV4(), { minLength: 1, maxLength: 5 }),
        fc.ipV4(),
        async (forged, real) => {
          const request = new Request("https://x", {
            headers: { "x-forwarded-for": [...forged, real].join(", ") },
          });
          expect(
            await requestKey(anon, { request, trustedHeader: "x-forwarded-for" }),
          ).toBe(`ip:${real}`);
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  it("trustedProxies counts proxies from the right; too few entries use the leftmost", async () => {
    const request = new Request("https://x", {
      headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.4, 10.0.0.2" },
    });
    const opts = { request, trustedHeader: "x-forwarded-for" };
    expect(await requestKey(anon, { ...opts, trustedProxies: 2 })).toBe(
      "ip:198.51.100.4",
    );
    expect(await requestKey(anon, { ...opts, trustedProxies: 9 })).toBe(
      "ip:6.6.6.6",
    );
    await expect(
      requestKey(anon, { ...opts, trustedProxies: 0 }),
    ).rejects.toMatchObject({ data: { code: "INVALID_ARGUMENT" } });
  });

  it("a 10 KB header still gives a bounded key", async () => {
    const request = new Request("https://x", {
      headers: { "x-forwarded-for": "1.2.3.4, " + "9".repeat(10_000) },
    });
    const key = await requestKey(anon, {
      request,
      trustedHeader: "x-forwarded-for",
    });
    expect(key.length).toBeLessThanOrEqual(256);
    expect(key.startsWith("ip:9")).toBe(true);
  });
});

describe("contention policy recognises only Convex's OCC failures", () => {
  it("a ConvexError quoting OCC text is not contention (deny must rethrow it)", () => {
    const quoted = new ConvexError({
      code: "INVALID_ARGUMENT",
      message:
        'bad key "changed while this mutation was being run" OptimisticConcurrencyControlFailure',
    });
    expect(isContentionError(quoted)).toBe(false);
  });

  it("the backend's system-table OCC message is contention too", () => {
    // crates/errors/src/lib.rs OCC_ERROR_MSG (ErrorMetadata::system_occ), the
    // text an action sees when a conflict involved a system table.
    const system = new Error(
      "Data read or written in this mutation changed while it was being run. Consider reducing the amount of data read by using indexed queries with selective index range expressions (https://docs.convex.dev/database/indexes/).",
    );
    expect(isContentionError(system)).toBe(true);
    expect(isContentionError(new Error("INVALID_ARGUMENT: boom"))).toBe(false);
  });
});
