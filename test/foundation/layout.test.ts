// @vitest-environment node
/**
 * The layout of issue 13, checked on the import graph of `src/` (value
 * imports only: `import type` and all-`type` specifier lists are erased).
 *
 * - A component (`src/<cap>/component/`) reaches only its own files, its
 *   capability's both-sides `shared/` folder and its `*.ts` siblings that
 *   are not client code, and `src/shared/`: never a `client/` folder, a
 *   `client.ts`/`zod.ts`/`react.ts` entry, `src/ops`, `src/react` or
 *   `src/testing`. `scripts/check-bundle.ts` only refuses Node built-ins, so
 *   without this a component could bundle app-side code unnoticed.
 * - No entry's client code reaches a component's modules (they register
 *   Convex functions of the component, not of the app).
 * - The import cycles are the ones named at the top of their modules
 *   (`src/migrations/component/engine.ts`, `src/authz/component/expiry.ts`);
 *   a new one fails here until it is named, and safe (no module of a cycle
 *   uses an import while it loads).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const src = path.join(root, "src");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [
    base.replace(/\.js$/, ".ts"),
    base.replace(/\.js$/, ".tsx"),
    base,
    `${base}.ts`,
    `${base}.tsx`,
    path.join(base, "index.ts"),
  ])
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not this candidate
    }
  throw new Error(`${path.relative(root, from)}: cannot resolve ${spec}`);
}

/** The files `file` imports for their values (type-only imports left out). */
function valueImports(file: string): string[] {
  const sf = ts.createSourceFile(
    file,
    readFileSync(file, "utf8"),
    ts.ScriptTarget.Latest,
    true,
  );
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    let spec: string | undefined;
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) spec = (node.moduleSpecifier as ts.StringLiteral).text;
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) spec = (node.moduleSpecifier as ts.StringLiteral).text;
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0])
    )
      spec = node.arguments[0].text;
    const resolved = spec === undefined ? undefined : resolve(file, spec);
    if (resolved !== undefined) out.push(resolved);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const files = sourceFiles(src);
const graph = new Map(files.map((f) => [f, valueImports(f)]));
const rel = (f: string) => path.relative(src, f).split(path.sep).join("/");

function reach(starts: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...(graph.get(f) ?? []));
  }
  return seen;
}

const capabilities = readdirSync(src).filter((d) => {
  try {
    return statSync(path.join(src, d, "component")).isDirectory();
  } catch {
    return false;
  }
});

/** Client-only code: what a component must never bundle. */
function clientOnly(file: string): boolean {
  const r = rel(file);
  return (
    /^[^/]+\/client\//.test(r) ||
    /^[^/]+\/(client|zod|react)\.tsx?$/.test(r) ||
    /^(ops|react|testing)\//.test(r) ||
    r === "test.ts"
  );
}

describe("layout (issue 13)", () => {
  test.each(capabilities)(
    "the %s component reaches no client-only code",
    (cap) => {
      const dir = path.join(src, cap, "component");
      const reached = reach(files.filter((f) => f.startsWith(dir + path.sep)));
      expect([...reached].filter(clientOnly).map(rel)).toEqual([]);
    },
  );

  test("no package entry reaches a component's modules", () => {
    const entries = [
      "authz/client.ts",
      "authz/zod.ts",
      "auditLog/client.ts",
      "auditLog/zod.ts",
      "migrations/client.ts",
      "rateLimiter/client.ts",
      "rateLimiter/react.ts",
      "ops/index.ts",
      "react/index.ts",
    ].map((e) => path.join(src, e));
    const reached = reach(entries);
    expect(
      [...reached].map(rel).filter((r) => /^[^/]+\/component\//.test(r)),
    ).toEqual([]);
  });

  test("the import cycles are the named ones", () => {
    // Tarjan's strongly connected components.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    let next = 0;
    const connect = (v: string) => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!index.has(w)) {
          connect(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w))
          low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(rel(w));
        } while (w !== v);
        if (component.length > 1) cycles.push(component.sort());
      }
    };
    for (const f of files) if (!index.has(f)) connect(f);
    expect(cycles.sort((a, b) => a[0].localeCompare(b[0]))).toEqual([
      ["authz/component/expiry.ts", "authz/component/grants.ts"],
      [
        "migrations/component/engine.ts",
        "migrations/component/rollbackStart.ts",
        "migrations/component/start.ts",
        "migrations/component/walk.ts",
      ],
    ]);
  });
});
