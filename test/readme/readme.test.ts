// @vitest-environment node
/**
 * Every TypeScript block in README.md is real code: apart from its import
 * lines and white space, each block (or each piece between `// ...`
 * elisions) stands verbatim in a compiled file of this repo — the file its first line names
 * (`// convex/posts.ts`) when that file exists, otherwise a test that carries
 * the example. Those files are compiled by `npm run typecheck` and run by the
 * tests, so a README example that stops compiling or working fails CI.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";

const repo = path.resolve(__dirname, "../..");
const readme = readFileSync(path.join(repo, "README.md"), "utf8");

/** Code lines without indentation, blank lines, comments-only lines or import statements. */
function codeLines(code: string): string[] {
  const out: string[] = [];
  let inImport = false;
  for (const raw of code.split("\n")) {
    const line = raw.trim();
    if (inImport) {
      if (/from\s+["'][^"']+["'];?$/.test(line)) inImport = false;
      continue;
    }
    if (/^import\s/.test(line)) {
      if (
        !/from\s+["'][^"']+["'];?$/.test(line) &&
        !/^import\s+["']/.test(line)
      )
        inImport = true;
      continue;
    }
    if (line.length === 0) continue;
    out.push(line);
  }
  return out;
}

function compiledFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (name === "node_modules" || name === "_generated" || name === "dist")
      continue;
    if (statSync(full).isDirectory()) out.push(...compiledFiles(full));
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}
const sources = ["convex", "src", "test", "example"]
  .flatMap((d) => compiledFiles(path.join(repo, d)))
  .filter((f) => !f.endsWith(path.join("test", "readme", "readme.test.ts")))
  .map((f) => ({
    file: path.relative(repo, f),
    lines: codeLines(readFileSync(f, "utf8")),
  }));

/**
 * Whether `needle`'s code stands contiguously in `haystack`. White space is
 * ignored, and so are trailing commas, so line wrapping may differ
 * (prettier wraps README blocks and files differently); every other
 * character must match.
 */
function containsRun(haystack: string[], needle: string[]): boolean {
  const squash = (lines: string[]) =>
    lines
      .join("")
      .replace(/\s+/g, "")
      .replace(/,([}\])])/g, "$1");
  return squash(haystack).includes(squash(needle));
}

// Blocks may be indented (inside list items): the fence's indentation is removed.
const blocks = [
  ...readme.matchAll(/^([ \t]*)```(ts|typescript|tsx)\n([\s\S]*?)^[ \t]*```/gm),
].map((m, i) => ({
  index: i + 1,
  code: m[3]
    .split("\n")
    .map((l) => (l.startsWith(m[1]) ? l.slice(m[1].length) : l))
    .join("\n"),
}));

describe("README TypeScript blocks", () => {
  test("there are blocks to check", () => {
    expect(blocks.length).toBeGreaterThan(10);
  });

  for (const block of blocks) {
    const [first, ...rest] = block.code.split("\n");
    // `// convex/posts.ts` names a file of this repo; `// your app: convex/x.ts` a file of yours.
    const header = /^\/\/ (your app: )?([\w./-]+\.tsx?)\b/.exec(first);
    const named = header?.[2];
    const inRepo = header !== null && header[1] === undefined;
    test(`block ${block.index} (${named ?? "unnamed"}) is compiled and exercised code`, () => {
      expect(
        named,
        `block ${block.index} must start with "// <file it belongs in>"`,
      ).toBeDefined();
      const pieces: string[][] = [[]];
      for (const line of rest.join("\n").split("\n")) {
        if (line.trim() === "// ...") pieces.push([]);
        else pieces[pieces.length - 1].push(line);
      }
      const bodies = pieces
        .map((p) => codeLines(p.join("\n")))
        .filter((p) => p.length > 0);
      expect(bodies.length, `block ${block.index} has no code`).toBeGreaterThan(
        0,
      );
      const preferred = sources.filter((s) => s.file === named);
      for (const body of bodies) {
        const home = [...preferred, ...sources].find((s) =>
          containsRun(s.lines, body),
        );
        expect(
          home,
          `block ${block.index} (${named}) is not in any compiled file:\n${body.join("\n")}`,
        ).toBeDefined();
        if (inRepo && existsSync(path.join(repo, named!)))
          expect(home!.file, `block ${block.index} differs from ${named}`).toBe(
            named,
          );
      }
    });
  }
});
