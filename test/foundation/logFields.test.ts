// @vitest-environment node
/**
 * One vocabulary for the log lines of all four components: every
 * `logEvent(...)` call in src/ is read, and the events that name the calling
 * function or its actor use the shared field names (`functionName`,
 * `actorId`, `actorKind`), never a synonym of their own (`function`,
 * `userId` for the caller...), so one log-stream query finds a caller's
 * lines in every component.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";

const src = path.resolve(__dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "_generated" ? [] : sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith(".test.ts") ? [p] : [];
  });
}

/** The top-level keys of the object literal starting at `text[open]` (`{`). */
function topLevelKeys(text: string, open: number): string[] {
  const keys: string[] = [];
  let depth = 0;
  let atKey = true;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === "`") {
      const end = text.indexOf(c, i + 1);
      i = end < 0 ? text.length : end;
      atKey = false;
      continue;
    }
    if (c === "{" || c === "(" || c === "[") {
      depth++;
      if (depth === 1) atKey = true;
      continue;
    }
    if (c === "}" || c === ")" || c === "]") {
      depth--;
      if (depth === 0) break;
      continue;
    }
    if (depth !== 1) continue;
    if (c === ",") {
      atKey = true;
      continue;
    }
    if (atKey && /[A-Za-z_.]/.test(c)) {
      const m = /^(\.\.\.[\w.]+|\w+)/.exec(text.slice(i));
      if (m) {
        keys.push(m[1]);
        i += m[1].length - 1;
      }
      atKey = false;
    }
  }
  return keys;
}

type Emitted = { event: string; fields: string[]; where: string };

/** Every `logEvent("<event>", { ... })` in src/, with its fields. */
export function emittedEvents(): Emitted[] {
  const out: Emitted[] = [];
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, "utf8");
    const call =
      /logEvent\(\s*(?:"([\w.]+)"|([^,]+?\?\s*"[\w.]+"\s*:\s*"[\w.]+"))\s*,\s*\{/g;
    for (let m = call.exec(text); m; m = call.exec(text)) {
      const names = m[1]
        ? [m[1]]
        : [...m[2].matchAll(/"(\w+\.\w+)"/g)].map((x) => x[1]);
      const fields = topLevelKeys(text, m.index + m[0].length - 1);
      const line = text.slice(0, m.index).split("\n").length;
      for (const event of names)
        out.push({
          event,
          fields,
          where: `${path.relative(src, file)}:${line}`,
        });
    }
  }
  return out;
}

const events = emittedEvents();

describe("log events share one field vocabulary", () => {
  test("the scan finds the events of every component", () => {
    const caps = new Set(events.map((e) => e.event.split(".")[0]));
    expect([...caps].sort()).toEqual([
      "auditLog",
      "authz",
      "migrations",
      "rateLimiter",
    ]);
  });

  test("no event names the calling function other than `functionName`", () => {
    const wrong = events.filter((e) =>
      e.fields.some((f) => ["function", "fn", "fnName", "caller"].includes(f)),
    );
    expect(
      wrong.map((e) => `${e.where} ${e.event}: ${e.fields.join(", ")}`),
    ).toEqual([]);
  });

  test("an event about a caller (it has `actorKind`) names it `actorId`, with `functionName`", () => {
    const wrong = events.filter(
      (e) =>
        e.fields.includes("actorKind") &&
        !(e.fields.includes("actorId") && e.fields.includes("functionName")),
    );
    expect(
      wrong.map((e) => `${e.where} ${e.event}: ${e.fields.join(", ")}`),
    ).toEqual([]);
  });
});

test("README's Structured logs section lists every emitted event, and no other", () => {
  const readme = readFileSync(path.resolve(src, "../README.md"), "utf8");
  const section = readme.slice(
    readme.indexOf("## Structured logs"),
    readme.indexOf("Where the lines go"),
  );
  const listed = [
    ...section.matchAll(/`((?:authz|auditLog|migrations|rateLimiter)\.\w+)`/g),
  ].map((m) => m[1]);
  const emitted = [...new Set(events.map((e) => e.event))].sort();
  expect([...new Set(listed)].sort()).toEqual(emitted);
});
