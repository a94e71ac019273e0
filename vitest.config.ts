import { defineConfig } from "vitest/config";

export default defineConfig({
  // Resolve `convex-opskit/*` to the TypeScript sources, so tests run without a build.
  resolve: { conditions: ["convex-opskit-source"] },
  ssr: { resolve: { conditions: ["convex-opskit-source"] } },
  test: {
    environment: "edge-runtime",
    include: ["test/**/*.test.ts"],
    server: { deps: { inline: ["convex-test"] } },
    // Every convexTest() runs under production limits (test/setup/productionLimits.ts).
    setupFiles: ["test/setup/productionLimits.ts"],
    testTimeout: 60_000,
    // Components log JSON lines; show them only for failing tests.
    silent: "passed-only",
  },
});
