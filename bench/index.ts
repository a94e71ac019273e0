export {};
/**
 * `npm run bench`: every capability's benchmark against its anchor package,
 * one after another in this process. Each module runs its suite when
 * imported and prints its own tables; nothing here asserts a timing.
 * `npm run bench -- rateLimiter authz` runs only those; `--quick` shortens
 * the OCC simulation (`rateLimiterOcc`).
 */
const all = [
  "rateLimiter",
  "rateLimiterOcc",
  "authz",
  "auditLog",
  "migrations",
];
const picked = process.argv.slice(2).filter((a) => all.includes(a));
for (const name of picked.length > 0 ? picked : all) {
  console.log(`\n=== ${name} ===`);
  const started = performance.now();
  await import(`./${name}.js`);
  console.log(
    `(${name} bench: ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}
