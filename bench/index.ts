/**
 * `npm run bench`: every capability's benchmark against its anchor package,
 * one after another. Each module runs its suite when imported and prints its
 * own tables; nothing here asserts a timing.
 * `npm run bench -- rateLimiter authz` runs only those (`rateLimiterOcc` is
 * the OCC simulation);
 * `npm run bench -- --quick` runs every suite on small sizes (for the test
 * that checks the bench ends and exits; its figures mean nothing).
 *
 * Each suite runs in a process of its own. In one shared process the bench
 * never exited: the rateLimiter suite's convex-test instances keep scheduled
 * sweeps (set a minute or more ahead, in the suite's simulated time) on
 * unref'd timers; when a later suite kept the process alive past them, they
 * fired and re-armed with ordinary timers (the suite had restored
 * `setTimeout`), up to weeks ahead. A suite's scheduler now ends with its
 * process.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const all = [
  "rateLimiter",
  "rateLimiterOcc",
  "authz",
  "auditLog",
  "migrations",
];
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.indexOf("--suite");

if (only >= 0) {
  // Child: run one suite in this process.
  const name = args[only + 1];
  if (!all.includes(name))
    throw new Error(`bench: unknown suite ${JSON.stringify(name)}`);
  const started = performance.now();
  await import(`./${name}.js`);
  console.log(
    `(${name} bench: ${((performance.now() - started) / 1000).toFixed(1)} s, process ${process.pid})`,
  );
} else {
  const picked = args.filter((a) => all.includes(a));
  let failed = 0;
  for (const name of picked.length > 0 ? picked : all) {
    console.log(`\n=== ${name} ===`);
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), "--suite", name],
      {
        stdio: "inherit",
        env: {
          ...process.env,
          ...(quick ? { OPSKIT_BENCH_QUICK: "1" } : {}),
        },
      },
    );
    if (child.status !== 0) {
      failed++;
      console.error(
        `bench: the ${name} suite failed (exit ${child.status ?? child.signal})`,
      );
    }
  }
  process.exitCode = failed === 0 ? 0 : 1;
}
