/**
 * `npm run test:latest`: the suite on what a user installs today.
 *
 * Copies the working tree (without node_modules, dist, .git) into a temporary
 * directory outside the repo, installs the locked dependencies there, then
 * upgrades convex, convex-test and convex-helpers to their newest published
 * versions, and runs the typecheck, the unit tests (components and example
 * app) and the consumer check (a fresh app on the packed tarball) there.
 * The codegen check is not run: `_generated/` is written for the pinned
 * convex and may legitimately differ on another version.
 *
 * When the npm registry cannot be reached it prints one line saying so and
 * exits 0 (CI without network still passes `npm test` on the pinned
 * versions); any other failure exits non-zero.
 *
 * Flags: `--keep` leaves the temporary copy; `--only <vitest filter>` runs a
 * subset of the unit tests (for quick local checks).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** The packages a user installs next to convex-opskit, upgraded to `@latest`. */
const LATEST_PACKAGES = ["convex", "convex-test", "convex-helpers"];

const repo = process.cwd();
const keep = process.argv.includes("--keep");
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt >= 0 ? process.argv.slice(onlyAt + 1) : [];

/** What `npm` printed and how it ended, for one command. */
export type NpmResult = {
  status: number | null;
  stdout: string;
  stderr: string;
};
/** Runs `npm <args>` (injected so the decision below is testable). */
export type RunNpm = (args: string[]) => NpmResult;

const runNpm: RunNpm = (args) => {
  const r = spawnSync("npm", args, { encoding: "utf8", timeout: 60_000 });
  return {
    status: r.status,
    stdout: r.stdout ?? "",
    stderr: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}`,
  };
};

/**
 * The newest published version of each package, or why there is none:
 * `unreachable` only when `npm ping` cannot reach the registry either (the
 * one case test:latest may skip); a registry that answers but gives no
 * version (an unknown name, a timeout of one lookup, garbage) is an `error`.
 */
export function newestVersions(
  names: string[],
  npm: RunNpm,
):
  | { kind: "ok"; versions: Record<string, string> }
  | { kind: "unreachable" | "error"; detail: string } {
  const versions: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of names) {
    const r = npm(["view", name, "version"]);
    const version = r.stdout.trim();
    if (r.status === 0 && /^\d+\.\d+\.\d+\S*$/.test(version))
      versions[name] = version;
    else
      problems.push(
        `npm view ${name} version: exit ${r.status}, ${JSON.stringify((r.stdout + r.stderr).trim().split("\n")[0].slice(0, 160))}`,
      );
  }
  if (problems.length === 0) return { kind: "ok", versions };
  const ping = npm(["ping"]);
  return {
    kind: ping.status === 0 ? "error" : "unreachable",
    detail: problems.join("; "),
  };
}

const isMain =
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) main();

function main() {
  const looked = newestVersions(LATEST_PACKAGES, runNpm);
  if (looked.kind === "unreachable") {
    console.log(
      `test:latest SKIPPED: the npm registry cannot be reached (npm ping failed; ${looked.detail}); only the pinned versions were tested`,
    );
    process.exit(0);
  }
  if (looked.kind !== "ok") {
    console.error(
      `test:latest FAILED: the registry answers but gave no newest version: ${looked.detail}`,
    );
    return process.exit(1);
  }
  const newest = looked.versions;

  const work = mkdtempSync(path.join(tmpdir(), "opskit-latest-"));
  const copy = path.join(work, "repo");
  let ok = false;
  const started = Date.now();
  const failed: string[] = [];
  /**
   * Runs a step in the copy, streaming its output. A failing install throws;
   * a failing check is recorded and the next checks still run, so one run
   * reports everything that breaks on the newest versions.
   */
  function step(label: string, cmd: string, args: string[], fatal = false) {
    console.log(`▸ ${label}`);
    const r = spawnSync(cmd, args, { cwd: copy, stdio: "inherit" });
    if (r.status === 0) return;
    if (fatal) throw new Error(`${label}: \`${cmd} ${args.join(" ")}\` failed`);
    failed.push(label);
  }
  try {
    console.log(
      `test:latest: ${LATEST_PACKAGES.map((n) => `${n}@${newest[n]}`).join(", ")}`,
    );
    const skip = new Set([
      "node_modules",
      "dist",
      ".git",
      ".vitest",
      ".artifacts",
    ]);
    cpSync(repo, copy, {
      recursive: true,
      filter: (src) => !skip.has(path.basename(src)) || src === repo,
    });
    step(
      "npm ci (locked versions)",
      "npm",
      ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
      true,
    );
    step(
      "upgrade to the newest published versions",
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        ...LATEST_PACKAGES.map((n) => `${n}@${newest[n]}`),
      ],
      true,
    );
    const installed = LATEST_PACKAGES.map((n) => {
      const pkg = JSON.parse(
        readFileSync(
          path.join(copy, "node_modules", n, "package.json"),
          "utf8",
        ),
      ) as { version: string };
      if (pkg.version !== newest[n])
        throw new Error(
          `${n}: installed ${pkg.version}, expected ${newest[n]}`,
        );
      return `${n}@${pkg.version}`;
    });
    console.log(`  installed: ${installed.join(", ")}`);
    step("typecheck", "npm", ["run", "-s", "typecheck"]);
    step("unit tests (components, example app, docs)", "npx", [
      "vitest",
      "run",
      ...only,
    ]);
    if (only.length === 0) {
      step("build", "npm", ["run", "-s", "build"]);
      step("consumer check (fresh app on the packed tarball)", "npx", [
        "tsx",
        "scripts/consumer-check.ts",
        "--no-build",
      ]);
    }
    const took = Math.round((Date.now() - started) / 1000);
    if (failed.length > 0)
      throw new Error(
        `on ${installed.join(", ")}, these failed: ${failed.join("; ")} (${took}s)`,
      );
    ok = true;
    console.log(`test:latest passed on ${installed.join(", ")} in ${took}s`);
  } catch (e) {
    console.error(`test:latest FAILED: ${(e as Error).message}`);
  } finally {
    if (keep) console.log(`kept ${copy}`);
    else rmSync(work, { recursive: true, force: true });
  }
  process.exit(ok ? 0 : 1);
}
