/** The rule for what `npm pack` may and must ship, used by the consumer check. */
/**
 * What the packed file list must satisfy: every target of `exports` ships,
 * LICENSE and README.md ship, and nothing of the repository's own tooling
 * (tests, benchmarks, scripts, the example app) does, nor the compiled twin
 * of an export that runs from its source. Returns the problems.
 */
export function checkPackList(
  files: string[],
  pkg: { exports: Record<string, string | Record<string, string>> },
): string[] {
  const shipped = new Set(files.map((f) => f.replace(/^\.\//, "")));
  const problems: string[] = [];
  for (const required of ["LICENSE", "README.md", "package.json"])
    if (!shipped.has(required)) problems.push(`missing ${required}`);
  for (const [entry, target] of Object.entries(pkg.exports))
    for (const file of typeof target === "string"
      ? [target]
      : Object.values(target))
      if (!shipped.has(file.replace(/^\.\//, "")))
        problems.push(
          `exports["${entry}"] points to ${file}, which is not in the package`,
        );
  // An export that runs from its TypeScript source (convex-opskit/test, whose
  // import.meta.glob needs Vite) has no use for the compiled twin in dist/.
  for (const [entry, target] of Object.entries(pkg.exports)) {
    const run = typeof target === "string" ? target : target.default;
    const m = /^\.\/src\/(.+)\.tsx?$/.exec(run ?? "");
    if (!m) continue;
    for (const twin of [`dist/${m[1]}.js`, `dist/${m[1]}.js.map`])
      if (shipped.has(twin))
        problems.push(
          `ships ${twin}, which nothing loads (exports["${entry}"] runs ${run})`,
        );
  }
  for (const f of shipped)
    if (
      /\.test\.[cm]?[jt]sx?$/.test(f) ||
      /^(test|bench|scripts|convex|example|\.ci)\//.test(f)
    )
      problems.push(`ships ${f}, which no package user needs`);
  return problems;
}
