// @vitest-environment node
/**
 * `npm run bench` ends and exits: its quick mode (every suite on small
 * sizes) must exit on its own, with status 0, within a generous bound. Each
 * suite runs in its own process, so one suite's convex-test scheduler (the
 * rateLimiter suite's sweeps, set minutes ahead) cannot keep the next ones'
 * process alive; the test checks that too. No benchmark figure is asserted.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect, test } from "vitest";

const repo = path.resolve(__dirname, "../..");
/** Far above a quick run's duration even on a loaded CI machine. */
const BOUND_MS = 300_000;

test(
  "the quick bench runs every suite, each in its own process, and exits by itself",
  () => {
    const run = spawnSync(
      process.execPath,
      [
        path.join(repo, "node_modules/tsx/dist/cli.mjs"),
        "bench/index.ts",
        "--quick",
      ],
      { cwd: repo, encoding: "utf8", timeout: BOUND_MS, killSignal: "SIGKILL" },
    );
    expect(
      run.signal,
      `the bench did not exit within ${BOUND_MS / 1000} s`,
    ).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const done = [
      ...run.stdout.matchAll(/^\((\w+) bench: [\d.]+ s, process (\d+)\)$/gm),
    ];
    expect(done.map((m) => m[1])).toEqual([
      "rateLimiter",
      "rateLimiterOcc",
      "authz",
      "auditLog",
      "migrations",
    ]);
    expect(new Set(done.map((m) => m[2])).size).toBe(5);
  },
  BOUND_MS + 30_000,
);
