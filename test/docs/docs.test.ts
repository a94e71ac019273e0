// @vitest-environment node
/**
 * Docs that are code, one mechanism for README.md and docs/*.md
 * (scripts/docs-code.ts has the rule): every TypeScript block names the
 * compiled file it comes from, and is that whole file or, when it says
 * "(excerpt)", consecutive runs of it in order. The files are compiled by
 * `npm run typecheck` and run by the tests, so a docs example that drifts,
 * stops compiling or stops working fails CI.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  RULE,
  checkBlock,
  checkDocs,
  docFiles,
  codeBlocks,
  parseHeader,
} from "../../scripts/docs-code.js";

const repo = path.resolve(__dirname, "../..");
// README.md, docs/*.md and the component READMEs under src/ (all shipped).
const docs = docFiles(repo);
const results = checkDocs(repo, docs);

describe("README.md and docs/*.md TypeScript blocks", () => {
  test("there are blocks to check in README.md and every docs/*.md", () => {
    for (const doc of docs.filter((d) => !d.startsWith("src/")))
      expect(
        results.filter((r) => r.block.doc === doc).length,
        doc,
      ).toBeGreaterThan(0);
  });

  for (const { block, problem } of results)
    test(`${block.doc} block ${block.index} (line ${block.line}): ${block.lines[0]}`, () => {
      // On failure the message says what differs and how to fix it.
      expect(problem ?? "ok").toBe("ok");
    });
});

/** A fake repo of one file, for checking the checker. */
const against = (file: string, text: string) => (f: string) =>
  f === file ? text : null;
const blockOf = (lines: string[]) => ({
  doc: "README.md",
  index: 1,
  line: 10,
  lines,
});

const configFile = `import { defineApp } from "convex/server";
import authz from "convex-opskit/authz/convex.config";

const app = defineApp();
app.use(authz);

export default app;
`;

describe("the rule catches what it must", () => {
  test("README step 2 without `export default app;` fails, naming the missing line", () => {
    const old = [
      "// convex/convex.config.ts",
      'import { defineApp } from "convex/server";',
      'import authz from "convex-opskit/authz/convex.config";',
      "",
      "const app = defineApp();",
      "app.use(authz);",
    ];
    const problem = checkBlock(
      blockOf(old),
      against("convex/convex.config.ts", configFile),
    );
    expect(problem).toContain("stops early");
    expect(problem).toContain('"export default app;"');
    expect(
      checkBlock(
        blockOf([...old, "", "export default app;"]),
        against("convex/convex.config.ts", configFile),
      ),
    ).toBeNull();
  });

  test("a block without a header, or naming an uncompiled or missing file, fails with the rule", () => {
    const read = against("convex/convex.config.ts", configFile);
    expect(checkBlock(blockOf(["const app = defineApp();"]), read)).toContain(
      RULE,
    );
    expect(
      checkBlock(blockOf(["// your app: convex/x.ts", "x"]), read),
    ).toContain("not a header");
    expect(checkBlock(blockOf(["// docs/x.ts", "x"]), read)).toContain(
      "does not compile",
    );
    expect(checkBlock(blockOf(["// convex/nope.ts", "x"]), read)).toContain(
      "does not exist",
    );
  });

  test("headers: the four forms, nothing else", () => {
    expect(parseHeader("// convex/a.ts")).toEqual({
      label: "convex/a.ts",
      file: "convex/a.ts",
      mode: "whole",
    });
    expect(parseHeader("// convex/a.ts (excerpt)")).toMatchObject({
      file: "convex/a.ts",
      mode: "excerpt",
    });
    expect(
      parseHeader("// convex/a.ts (excerpt of test/a/readme.test.ts)"),
    ).toEqual({
      label: "convex/a.ts",
      file: "test/a/readme.test.ts",
      mode: "excerpt",
    });
    expect(parseHeader("// convex/a.ts (all of test/app/a.ts)")).toMatchObject({
      file: "test/app/a.ts",
      mode: "whole",
    });
    for (const bad of [
      "// convex/a.ts (all of)",
      "// convex/a (excerpt)",
      "// your app: convex/a.ts",
      "// convex/a.ts excerpt",
      "convex/a.ts",
    ])
      expect(parseHeader(bad), bad).toBeNull();
  });

  test("only TypeScript fences are blocks; list indentation is removed", () => {
    const md =
      "# x\n\n```sh\nnpm i\n```\n\n1. step\n\n   ```ts\n   // convex/a.ts\n   const a = 1;\n   ```\n";
    expect(codeBlocks("README.md", md)).toEqual([
      {
        doc: "README.md",
        index: 1,
        line: 10,
        lines: ["// convex/a.ts", "const a = 1;"],
      },
    ]);
  });
});

// Distinct code-like lines, so a deleted or moved line is observable.
const fileLines = fc.uniqueArray(
  fc
    .tuple(fc.constantFrom("const", "let", "export const"), fc.nat(999))
    .map(([k, n]) => `${k} x${n} = ${n};`),
  { minLength: 3, maxLength: 30 },
);

describe("the rule, on generated files (fixed seed)", () => {
  test("a whole-file block passes exactly when it has every line, in order", () => {
    fc.assert(
      fc.property(fileLines, fc.nat(), (lines, pick) => {
        const read = against("convex/f.ts", lines.join("\n") + "\n");
        expect(
          checkBlock(blockOf(["// convex/f.ts", ...lines]), read),
        ).toBeNull();
        const drop = pick % lines.length;
        const missing = lines.filter((_, i) => i !== drop);
        const problem = checkBlock(
          blockOf(["// convex/f.ts", ...missing]),
          read,
        );
        expect(problem).toContain(JSON.stringify(lines[drop]));
        const swapped = [...lines];
        [swapped[0], swapped[lines.length - 1]] = [
          swapped[lines.length - 1],
          swapped[0],
        ];
        expect(
          checkBlock(blockOf(["// convex/f.ts", ...swapped]), read),
        ).not.toBeNull();
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  test("an excerpt passes with runs in order separated by `// ...`, and fails when a piece skips a line or pieces are swapped", () => {
    fc.assert(
      fc.property(
        fileLines.filter((l) => l.length >= 6),
        fc.nat(),
        (lines, seed) => {
          const read = against("convex/f.ts", lines.join("\n"));
          const cut = 1 + (seed % (lines.length - 4));
          const first = lines.slice(0, cut);
          const second = lines.slice(cut + 2, cut + 4);
          const header = "// convex/f.ts (excerpt)";
          expect(
            checkBlock(blockOf([header, ...first, "// ...", ...second]), read),
          ).toBeNull();
          // Without the marker, the skipped lines make the piece wrong.
          const joined = checkBlock(
            blockOf([header, ...first, ...second]),
            read,
          );
          expect(joined).toContain(JSON.stringify(second[0]));
          // Pieces in the wrong order.
          expect(
            checkBlock(blockOf([header, ...second, "// ...", ...first]), read),
          ).toContain("file order");
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });
});

describe("code the rule must not miss (fixed seed)", () => {
  test("a code block is found whatever its fence: ``` or ~~~, longer fences, an info string after the language, JavaScript dialects", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("```", "````", "~~~", "~~~~"),
        fc.constantFrom(
          "ts",
          "tsx",
          "typescript",
          "TS",
          "js",
          "jsx",
          "javascript",
          "mjs",
          "mts",
        ),
        fc.constantFrom("", " ", ' title="convex/a.ts"', " {1,3}", " twoslash"),
        fc.constantFrom("", "   "),
        fileLines,
        (fence, lang, info, indent, lines) => {
          // A longer fence may hold a shorter one inside (e.g. a Markdown sample).
          const inner =
            fence.length > 3
              ? [`${fence.slice(0, 3)}sh`, fence.slice(0, 3)]
              : [];
          const body = ["// convex/a.ts", ...lines, ...inner];
          const md = [
            "# doc",
            "",
            `${indent}${fence}${lang}${info}`,
            ...body.map((l) => `${indent}${l}`),
            `${indent}${fence}`,
            "",
            "after",
          ].join("\n");
          const blocks = codeBlocks("README.md", md);
          expect(blocks.map((b) => b.lines)).toEqual([body]);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  test("every Markdown file the package ships is checked, the component READMEs included", () => {
    const files = docFiles(repo);
    expect(files).toContain("README.md");
    for (const f of readdirSync(path.join(repo, "docs")))
      if (f.endsWith(".md")) expect(files).toContain(`docs/${f}`);
    expect(files).toContain("src/rateLimiter/component/README.md");
    expect(files).toContain("src/migrations/component/README.md");
    expect(files.filter((f) => !f.endsWith(".md"))).toEqual([]);
  });
});
