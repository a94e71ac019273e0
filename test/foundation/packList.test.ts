// @vitest-environment node
/**
 * The packed file list rule of the consumer check (scripts/pack-list.ts):
 * checked on the real `npm pack --dry-run` listing, and shown to catch what
 * it must (a missing export target, a missing LICENSE, a shipped test).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { checkPackList } from "../../scripts/pack-list.js";

const repo = path.resolve(__dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8"));

describe("what the package ships", () => {
  test("the rule catches a missing target, a missing LICENSE and shipped tooling", () => {
    const exports = { ".": { types: "./dist/a.d.ts", default: "./dist/a.js" } };
    const good = [
      "LICENSE",
      "README.md",
      "package.json",
      "dist/a.d.ts",
      "dist/a.js",
    ];
    expect(checkPackList(good, { exports })).toEqual([]);
    expect(
      checkPackList(
        good.filter((f) => f !== "dist/a.js"),
        { exports },
      ),
    ).toEqual([
      'exports["."] points to ./dist/a.js, which is not in the package',
    ]);
    expect(
      checkPackList(
        good.filter((f) => f !== "LICENSE"),
        { exports },
      ),
    ).toEqual(["missing LICENSE"]);
    expect(
      checkPackList([...good, "src/x/y.test.ts", "bench/index.ts"], {
        exports,
      }),
    ).toEqual([
      "ships src/x/y.test.ts, which no package user needs",
      "ships bench/index.ts, which no package user needs",
    ]);
  });

  test("the compiled twin of an export that runs from its source is not shipped", () => {
    const exports = {
      "./test": { types: "./dist/test.d.ts", default: "./src/test.ts" },
    };
    const base = [
      "LICENSE",
      "README.md",
      "package.json",
      "dist/test.d.ts",
      "src/test.ts",
    ];
    expect(checkPackList(base, { exports })).toEqual([]);
    expect(
      checkPackList([...base, "dist/test.js", "dist/test.js.map"], { exports }),
    ).toEqual([
      'ships dist/test.js, which nothing loads (exports["./test"] runs ./src/test.ts)',
      'ships dist/test.js.map, which nothing loads (exports["./test"] runs ./src/test.ts)',
    ]);
  });

  test("the dry-run listing of the source tree has LICENSE, README, docs, src and no tests (dist is checked by the consumer check after the build)", () => {
    const listed = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
        cwd: repo,
        encoding: "utf8",
      }),
    ) as Array<{ files: Array<{ path: string }> }>;
    const files = listed[0].files.map((f) => f.path);
    const sourceOnly = {
      exports: Object.fromEntries(
        Object.entries(
          pkg.exports as Record<string, string | Record<string, string>>,
        ).map(([k, t]) => [
          k,
          typeof t === "string"
            ? t
            : Object.fromEntries(
                Object.entries(t).filter(([, f]) => !f.startsWith("./dist/")),
              ),
        ]),
      ),
    };
    expect(checkPackList(files, sourceOnly)).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "docs/authz.md"]));
  });
});
