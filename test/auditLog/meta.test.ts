import { describe, expect, test } from "vitest";
import { functionNameOf, requestInfo } from "../internal.js";

describe("ctx.meta, degrading gracefully", () => {
  test("function name from metadata, else the declared name, else unknown", async () => {
    const meta = { getFunctionMetadata: async () => ({ name: "admin:fix" }) };
    expect(await functionNameOf({ meta }, "declared")).toBe("admin:fix");
    expect(await functionNameOf({}, "declared")).toBe("declared");
    expect(await functionNameOf({}, undefined)).toBe("unknown");
    const throwing = {
      getFunctionMetadata: async () => {
        throw new Error("not supported");
      },
    };
    expect(await functionNameOf({ meta: throwing }, "declared")).toBe(
      "declared",
    );
  });

  test("request metadata without the auth token, or null where unavailable", async () => {
    const meta = {
      getRequestMetadata: async () => ({
        ip: "198.51.100.7",
        userAgent: "ua",
        requestId: "req-1",
        scheduledFunctionId: null,
        authToken: "eyJhbGciOi.secret.token",
      }),
    };
    expect(await requestInfo({ meta })).toEqual({
      ip: "198.51.100.7",
      userAgent: "ua",
      requestId: "req-1",
      scheduledFunctionId: null,
    });
    expect(await requestInfo({})).toBeNull();
    expect(
      await requestInfo({
        meta: {
          getRequestMetadata: async () => {
            throw new Error("queries have no request metadata");
          },
        },
      }),
    ).toBeNull();
    // Older runtimes without scheduledFunctionId.
    expect(
      await requestInfo({
        meta: {
          getRequestMetadata: async () => ({
            ip: null,
            userAgent: null,
            requestId: "r",
          }),
        },
      }),
    ).toEqual({
      ip: null,
      userAgent: null,
      requestId: "r",
      scheduledFunctionId: null,
    });
  });
});
