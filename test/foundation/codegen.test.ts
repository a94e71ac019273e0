// @vitest-environment node
/**
 * The offline generator must write what `npx convex codegen` writes, and
 * `codegen:check` must notice every kind of drift. These tests work on a
 * temporary copy of the repo, so the checkout itself is never touched.
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const repo = path.resolve(__dirname, "../..");
const tsx = path.join(repo, "node_modules/.bin/tsx");
const script = path.join(repo, "scripts/codegen.ts");

function copyRepo(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "opskit-codegen-test-"));
  for (const p of ["src", "convex", "package.json"])
    cpSync(path.join(repo, p), path.join(dir, p), { recursive: true });
  symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

function codegen(
  root: string,
  ...flags: string[]
): { ok: boolean; output: string } {
  try {
    const out = execFileSync(tsx, [script, "--root", root, ...flags], {
      cwd: root,
      encoding: "utf8",
      stdio: "pipe",
    });
    return { ok: true, output: out };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

describe("codegen:check", () => {
  let dir: string;
  beforeAll(() => {
    dir = copyRepo();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("passes on the committed tree", () => {
    const r = codegen(dir, "--check");
    expect(r.output).toContain("up to date");
    expect(r.ok).toBe(true);
  });

  test("fails, naming the files, when a component gains a function", () => {
    writeFileSync(
      path.join(dir, "src/rateLimiter/component/driftProbe.ts"),
      `import { v } from "convex/values";
import { query } from "./_generated/server.js";
export const probe = query({ args: { name: v.string() }, returns: v.null(), handler: async () => null });
`,
    );
    const r = codegen(dir, "--check");
    expect(r.ok).toBe(false);
    expect(r.output).toContain(
      "src/rateLimiter/component/_generated/component.ts",
    );
    expect(r.output).toContain("src/rateLimiter/component/_generated/api.ts");
  });

  test("fails when a validator changes, and passes again after codegen", () => {
    expect(codegen(dir).ok).toBe(true);
    expect(codegen(dir, "--check").ok).toBe(true);
    const file = path.join(dir, "src/rateLimiter/component/driftProbe.ts");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        "name: v.string()",
        "name: v.number()",
      ),
    );
    const r = codegen(dir, "--check");
    expect(r.ok).toBe(false);
    expect(r.output).toContain(
      "src/rateLimiter/component/_generated/component.ts",
    );
    expect(r.output).not.toContain("convex/_generated/api.d.ts");
    expect(codegen(dir).ok).toBe(true);
    const generated = readFileSync(
      path.join(dir, "src/rateLimiter/component/_generated/component.ts"),
      "utf8",
    );
    expect(generated).toContain("{ name: number }");
  });

  test("fails when the app installs a different set of components", () => {
    const config = path.join(dir, "convex/convex.config.ts");
    writeFileSync(
      config,
      readFileSync(config, "utf8").replace("app.use(auditLog);\n", ""),
    );
    const r = codegen(dir, "--check");
    expect(r.ok).toBe(false);
    expect(r.output).toContain("convex/_generated/api.d.ts");
  });
});

describe("fidelity with `npx convex codegen`", () => {
  test("regenerating @convex-dev/rate-limiter's component reproduces its shipped _generated/ byte for byte", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "opskit-codegen-anchor-"));
    try {
      cpSync(
        path.join(repo, "node_modules/@convex-dev/rate-limiter/src"),
        path.join(dir, "src/anchor"),
        {
          recursive: true,
        },
      );
      cpSync(path.join(repo, "package.json"), path.join(dir, "package.json"));
      symlinkSync(
        path.join(repo, "node_modules"),
        path.join(dir, "node_modules"),
      );
      const r = codegen(dir, "--check", "--app", "no-app");
      expect(r.output).toContain("up to date");
      expect(r.ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
