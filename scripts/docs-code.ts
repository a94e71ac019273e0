/**
 * Docs that are code: the one rule for every TypeScript (or JavaScript)
 * block of README.md, docs/*.md and the component READMEs under src/
 * (checked by test/docs/docs.test.ts).
 *
 * A block's first line names where its code lives, in one of three forms:
 *
 *     // convex/posts.ts                                   the whole file
 *     // convex/posts.ts (excerpt)                         part of that file
 *     // convex/authz.ts (excerpt of test/authz/readme.test.ts)
 *     // convex/admin.ts (all of test/migrations/app/admin.ts)
 *
 * The path in parentheses (or the label when there is none) must be a .ts or
 * .tsx file that `npm run typecheck` compiles. Then:
 * - whole file (`// <path>` or `(all of <path>)`): the block's lines are the
 *   file's lines, all of them, in order;
 * - excerpt: a `// ...` line splits the block into pieces; each piece is a
 *   run of consecutive lines of the file, and the pieces appear in the
 *   file in the block's order.
 * Lines are compared trimmed, without a trailing comma, and blank lines are
 * skipped, and so is a first line of the file equal to the block's
 * `// <label>` header; nothing else is ignored (imports and comments count).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** One fenced TypeScript block of a Markdown file. */
export type CodeBlock = {
  /** The Markdown file, relative to the repo (e.g. `docs/authz.md`). */
  doc: string;
  /** 1-based index among the document's TypeScript blocks. */
  index: number;
  /** 1-based line of the block's first code line in the document. */
  line: number;
  /** The block's lines, without the fences and the list indentation. */
  lines: string[];
};

/** What a block's header says. */
export type BlockHeader = {
  /** Where the code goes in an app (the header's first path). */
  label: string;
  /** The repo file holding the code. */
  file: string;
  mode: "whole" | "excerpt";
};

/** Directories `npm run typecheck` compiles (tsconfig.json `include`). */
export const COMPILED_DIRS = [
  "src",
  "convex",
  "test",
  "example",
  "bench",
  "scripts",
];

/** The rule, as printed under every failure. */
export const RULE = `Each TypeScript or JavaScript block (any fence, any info string) in README.md, docs/*.md and src/**/*.md starts with a header naming where its code is compiled and run:
  // convex/posts.ts                                     the block is that whole file, every line, in order
  // convex/posts.ts (excerpt)                           the block is part of that file
  // convex/authz.ts (excerpt of test/authz/readme.test.ts)   part of another file (a test that runs it)
  // convex/admin.ts (all of test/migrations/app/admin.ts)    the whole of another file
In an excerpt, "// ..." separates pieces; each piece is consecutive lines of the file, pieces in file order.
Lines compare trimmed and without a trailing comma; blank lines are skipped, and so is a first line of the file equal to the header's "// <label>". The file must be a .ts/.tsx under ${COMPILED_DIRS.join(", ")}/ (compiled by npm run typecheck).`;

/**
 * Languages whose fenced blocks are code under this rule: TypeScript and the
 * JavaScript dialects (a `js` block would otherwise escape the check; its
 * header must still name a compiled .ts/.tsx file).
 */
export const CODE_LANGUAGES = [
  "ts",
  "tsx",
  "typescript",
  "mts",
  "cts",
  "js",
  "jsx",
  "javascript",
  "mjs",
  "cjs",
];

/**
 * The code blocks of a Markdown document (CommonMark fences: ``` or ~~~,
 * three or more, closed by the same character at least as long; the
 * language is the info string's first word, any case, so `ts title="x"`
 * counts).
 */
export function codeBlocks(doc: string, markdown: string): CodeBlock[] {
  const out: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^([ \t]*)(`{3,}|~{3,})[ \t]*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const close = new RegExp(`^[ \\t]*${fence[0]}{${fence.length},}[ \\t]*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j]); j++)
      body.push(
        lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j],
      );
    if (CODE_LANGUAGES.includes(lang.toLowerCase()))
      out.push({ doc, index: out.length + 1, line: i + 2, lines: body });
    i = j;
  }
  return out;
}

/**
 * The Markdown files the rule covers: README.md, docs/*.md and every .md
 * under src/ (the component READMEs ship in the package too).
 */
export function docFiles(root: string): string[] {
  const under = (dir: string): string[] =>
    readdirSync(path.join(root, dir), { withFileTypes: true })
      .flatMap((e) =>
        e.isDirectory()
          ? e.name === "node_modules"
            ? []
            : under(`${dir}/${e.name}`)
          : e.name.endsWith(".md")
            ? [`${dir}/${e.name}`]
            : [],
      )
      .sort();
  return ["README.md", ...under("docs"), ...under("src")];
}

/** Parses a block's header line; null when it has none. */
export function parseHeader(first: string | undefined): BlockHeader | null {
  const m =
    /^\/\/ ([\w./@-]+\.tsx?)(?: \((excerpt|excerpt of|all of)(?: ([\w./@-]+\.tsx?))?\))?\s*$/.exec(
      (first ?? "").trim(),
    );
  if (!m) return null;
  const [, label, kind, other] = m;
  if (kind === undefined) return { label, file: label, mode: "whole" };
  if (kind === "excerpt")
    return other === undefined ? { label, file: label, mode: "excerpt" } : null;
  if (other === undefined) return null;
  return { label, file: other, mode: kind === "all of" ? "whole" : "excerpt" };
}

/** A line as compared: trimmed, without a trailing comma. */
export const normalize = (line: string) => line.trim().replace(/,$/, "");

type Numbered = { text: string; line: number };
const significant = (lines: string[], firstLine: number): Numbered[] =>
  lines
    .map((l, i) => ({ text: normalize(l), line: firstLine + i }))
    .filter((l) => l.text.length > 0);

/**
 * Checks one block against the repo: returns null when it follows the rule,
 * else a message saying exactly what differs and how to fix it.
 * @param readRepoFile - reads a repo-relative file, or returns null when absent.
 */
export function checkBlock(
  block: CodeBlock,
  readRepoFile: (file: string) => string | null,
): string | null {
  const where = `${block.doc} block ${block.index} (line ${block.line})`;
  const header = parseHeader(block.lines[0]);
  if (!header)
    return `${where} starts with ${JSON.stringify(block.lines[0] ?? "")}, not a header naming its file.\n\n${RULE}`;
  const file = header.file;
  if (!COMPILED_DIRS.includes(file.split("/")[0]) || file.includes(".."))
    return `${where} names ${file}, which npm run typecheck does not compile; put the code under ${COMPILED_DIRS.join(", ")}/.\n\n${RULE}`;
  const source = readRepoFile(file);
  if (source === null)
    return `${where} names ${file}, which does not exist.\n\n${RULE}`;
  const fileLines = significant(source.split("\n"), 1);
  // A file may open with the same header comment as the block; it is the header, not code.
  if (fileLines[0]?.text === `// ${header.label}`) fileLines.shift();
  const body = block.lines.slice(1);
  const docLine = (k: number) => block.line + 1 + k;

  if (header.mode === "whole") {
    const mine = significant(body, 0);
    for (let k = 0; k < Math.max(mine.length, fileLines.length); k++) {
      const a = mine[k];
      const b = fileLines[k];
      if (a && b && a.text === b.text) continue;
      if (!a)
        return `${where} is all of ${file} but stops early: ${file}:${b.line} continues with ${JSON.stringify(b.text)}, missing from the block (after ${block.doc}:${docLine(mine[k - 1]?.line ?? -1)}). Add the missing lines, or mark the block "(excerpt)".`;
      if (!b)
        return `${where} is all of ${file} but ${block.doc}:${docLine(a.line)} ${JSON.stringify(a.text)} comes after the end of the file. Remove it from the block or add it to ${file}.`;
      return `${where} is all of ${file} but differs at ${block.doc}:${docLine(a.line)}: the block has ${JSON.stringify(a.text)}, ${file}:${b.line} has ${JSON.stringify(b.text)}. Make them the same, or mark the block "(excerpt)" and separate pieces with "// ...".`;
    }
    return null;
  }

  // Excerpt: pieces split by "// ...", each a run of consecutive file lines, in order.
  const pieces: Numbered[][] = [[]];
  body.forEach((raw, k) => {
    if (raw.trim() === "// ...") pieces.push([]);
    else if (normalize(raw).length > 0)
      pieces[pieces.length - 1].push({ text: normalize(raw), line: k });
  });
  const nonEmpty = pieces.filter((p) => p.length > 0);
  if (nonEmpty.length === 0) return `${where} has no code.`;
  let from = 0;
  for (const piece of nonEmpty) {
    let bestAt = -1;
    let bestLen = -1;
    for (let s = from; s < fileLines.length; s++) {
      let n = 0;
      while (
        n < piece.length &&
        s + n < fileLines.length &&
        fileLines[s + n].text === piece[n].text
      )
        n++;
      if (n === piece.length) {
        bestAt = s;
        bestLen = n;
        break;
      }
      if (n > bestLen) {
        bestLen = n;
        bestAt = s;
      }
    }
    if (bestLen === piece.length) {
      from = bestAt + piece.length;
      continue;
    }
    const bad = piece[Math.max(bestLen, 0)];
    const anywhere = fileLines.find((l) => l.text === bad.text);
    const hint =
      bestLen > 0
        ? ` The piece matches ${file}:${fileLines[bestAt].line}-${fileLines[bestAt + bestLen - 1].line}, then ${file}:${fileLines[bestAt + bestLen]?.line ?? "(end)"} has ${JSON.stringify(fileLines[bestAt + bestLen]?.text ?? "")}.`
        : anywhere
          ? ` It is at ${file}:${anywhere.line}, before the previous piece: keep pieces in file order.`
          : ` ${file} has no such line.`;
    return `${where} (excerpt of ${file}): ${block.doc}:${docLine(bad.line)} ${JSON.stringify(bad.text)} is not where the block says.${hint} Copy the lines exactly, or put "// ..." where the block skips lines of the file.`;
  }
  return null;
}

/** Every block of the given documents, checked against the repo at `root`. */
export function checkDocs(
  root: string,
  docs: string[],
): Array<{ block: CodeBlock; problem: string | null }> {
  const read = (file: string) => {
    try {
      return readFileSync(path.join(root, file), "utf8");
    } catch {
      return null;
    }
  };
  return docs.flatMap((doc) =>
    codeBlocks(doc, readFileSync(path.join(root, doc), "utf8")).map(
      (block) => ({ block, problem: checkBlock(block, read) }),
    ),
  );
}
