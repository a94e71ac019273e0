/**
 * `npm run test:browser`: the admin console in headless Chromium, driven by
 * playwright-core, against `npm run console`'s server on a random free port.
 * Each walk is what a person does; every walk fails on any uncaught page
 * error or console error, and saves screenshots under .artifacts/console/.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { root } from "../../example/console/app.js";
import { startConsoleServer } from "../../example/console/server.js";

const OUT = path.join(root, ".artifacts", "console");
mkdirSync(OUT, { recursive: true });
const EXECUTABLE = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TIMEOUT = 15_000;

type Walk = {
  name: string;
  run: (page: Page, shot: (label: string) => Promise<void>) => Promise<void>;
};

const reasonOf = (ticket: string, why: string) => `${ticket} ${why}`;

/** Clicks a ReasonAction button, types the reason and confirms. */
async function confirmWithReason(
  page: Page,
  button: string,
  reason: string,
  confirm: string,
) {
  await page.getByRole("button", { name: button, exact: true }).click();
  await page.getByLabel("Reason (recorded in the audit log)").fill(reason);
  await page.getByRole("button", { name: confirm, exact: true }).click();
}

const walks: Walk[] = [
  {
    name: "support-audit",
    run: async (page, shot) => {
      await page.getByRole("heading", { name: "Audit trail" }).waitFor();
      await page
        .getByRole("table", { name: "Audit entries" })
        .getByRole("row")
        .nth(1)
        .waitFor();
      await shot("trail");
      const filters = page.getByRole("search", { name: "Filters" });
      await filters.getByLabel("Table").selectOption("users");
      await filters.getByLabel("Actor").fill("sam");
      await filters.getByRole("button", { name: "Apply filters" }).click();
      const rows = page
        .getByRole("table", { name: "Audit entries" })
        .locator("tbody tr");
      await page.waitForFunction(() => {
        const cells = [
          ...document.querySelectorAll(
            'table[aria-label="Audit entries"] tbody tr td:nth-child(2)',
          ),
        ];
        return cells.length > 0 && cells.every((c) => c.textContent === "sam");
      });
      const tables = await rows.locator("td:nth-child(4)").allTextContents();
      assert.ok(
        tables.length >= 2 && tables.every((t) => t === "users"),
        `filtered rows: ${tables}`,
      );
      await shot("filtered");
      // Export the filtered range.
      const [csv] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Export CSV" }).click(),
      ]);
      const csvText = readFileSync((await csv.path())!, "utf8");
      const lines = csvText.trim().split("\r\n");
      assert.match(
        lines[0],
        /^time,actorId,functionName,table,docId,kind,changed/,
      );
      assert.equal(
        lines.length - 1,
        tables.length,
        "CSV has one line per filtered entry",
      );
      assert.ok(lines.slice(1).every((l) => l.split(",")[1] === "sam"));
      const [nd] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Export NDJSON" }).click(),
      ]);
      const ndLines = readFileSync((await nd.path())!, "utf8")
        .trim()
        .split("\n");
      assert.equal(ndLines.length, tables.length);
      assert.equal(JSON.parse(ndLines[0]).actorId, "sam");
      // Open Carol's role change (the newest of sam's) and read its diff.
      await rows
        .first()
        .getByRole("button", { name: /^Open operation/ })
        .click();
      const diff = page.getByRole("table", { name: /^Changes to users / });
      await diff.waitFor();
      const roleRow = diff.getByRole("row").filter({ hasText: /^role/ });
      assert.match(
        await roleRow.innerText(),
        /role.*changed\s+member\s+support/s,
      );
      assert.match(
        await page.locator("section[aria-labelledby=opskit-op-h]").innerText(),
        /SUP-1240/,
      );
      await shot("operation-diff");
      // A reason that breaks the policy is refused in words, and nothing happens.
      await confirmWithReason(
        page,
        "Revert this operation",
        "oops",
        "Confirm revert",
      );
      await page
        .getByRole("alert")
        .filter({ hasText: "The request was not accepted" })
        .waitFor();
      await shot("reason-refused");
      await page
        .getByLabel("Reason (recorded in the audit log)")
        .fill(reasonOf("SUP-1300", "weekend rota cancelled"));
      await page
        .getByRole("button", { name: "Confirm revert", exact: true })
        .click();
      await page
        .getByRole("status")
        .filter({ hasText: "Reverted 1 document" })
        .waitFor();
      // The revert appears at the top of the (still filtered) trail.
      await page.waitForFunction(() => {
        const first = document.querySelector(
          'table[aria-label="Audit entries"] tbody tr',
        );
        return first?.textContent?.includes("auditRevert") ?? false;
      });
      await shot("reverted");
    },
  },
  {
    name: "member-refused",
    run: async (page, shot) => {
      const alert = page.getByRole("alert").first();
      await alert.waitFor();
      const text = await alert.innerText();
      assert.match(text, /You don't have permission for this/);
      assert.match(text, /audit\.read/);
      await shot("refused");
    },
  },
  {
    name: "admin-migrations",
    run: async (page, shot) => {
      await page.getByRole("tab", { name: "Migrations" }).click();
      const name = "migrations:backfillWordCount";
      await page.getByRole("article", { name: `Migration ${name}` }).waitFor();
      await shot("before");
      await confirmWithReason(
        page,
        `Dry run ${name}`,
        reasonOf("OPS-42", "preview the wordCount backfill"),
        "Confirm dry run",
      );
      const report = page.getByRole("region", { name: "Dry-run report" });
      await report.getByText("complete").waitFor({ timeout: TIMEOUT });
      const stats = await report.innerText();
      assert.match(stats, /Would change\s+200\d/);
      assert.match(
        await page
          .getByRole("table", { name: "Would change per field" })
          .innerText(),
        /wordCount/,
      );
      await shot("dry-run-report");
      await page.getByLabel("Batch size", { exact: true }).fill("10");
      await confirmWithReason(
        page,
        `Run ${name}`,
        reasonOf("OPS-43", "backfill wordCount for real"),
        "Confirm run",
      );
      await confirmWithReason(
        page,
        `Pause ${name}`,
        reasonOf("OPS-44", "pause during peak traffic"),
        "Confirm pause",
      );
      await page.getByLabel("State: paused").waitFor({ timeout: TIMEOUT });
      const bar = page.getByRole("progressbar", { name: `${name} progress` });
      const pausedAt = Number(await bar.getAttribute("aria-valuenow"));
      assert.ok(pausedAt < 100, `paused at ${pausedAt} %`);
      await page.waitForTimeout(1500);
      assert.equal(
        Number(await bar.getAttribute("aria-valuenow")),
        pausedAt,
        "a paused run does not move",
      );
      await shot("paused");
      await confirmWithReason(
        page,
        `Resume ${name}`,
        reasonOf("OPS-45", "peak is over, continue"),
        "Confirm resume",
      );
      await page.getByLabel("State: complete").waitFor({ timeout: 60_000 });
      assert.equal(await bar.getAttribute("aria-valuenow"), "100");
      await shot("complete");
    },
  },
  {
    name: "admin-rate-limit",
    run: async (page, shot) => {
      await page.getByRole("tab", { name: "Rate limits" }).click();
      await page
        .getByLabel("Limit", { exact: true })
        .selectOption("pinAttempt");
      await page.getByLabel("Key", { exact: true }).fill("bob");
      await page.getByRole("button", { name: "Show value" }).click();
      const available = page.getByLabel("Available now", { exact: true });
      await available.waitFor();
      // Bob spent his 3 PIN attempts in the demo's day and is locked out
      // (the bucket refills in real time meanwhile, the penalty holds).
      const [shown, capacity] = (await available.innerText())
        .split(" / ")
        .map(Number);
      assert.equal(capacity, 3);
      assert.ok(shown < 3, `available ${shown}`);
      const region = page.getByRole("region", {
        name: "Rate limit pinAttempt",
      });
      assert.match(await region.innerText(), /denied for \d+ s/);
      assert.match(await region.innerText(), /Locked out by a penalty/);
      await shot("value");
      await confirmWithReason(
        page,
        "Reset pinAttempt for bob",
        reasonOf("SUP-1301", "Bob verified by phone"),
        "Confirm reset",
      );
      await page
        .getByRole("status")
        .filter({ hasText: "Reset recorded" })
        .waitFor();
      await page.waitForFunction(() =>
        /^3 \/ 3$/.test(
          document.querySelector('[aria-label="Available now"]')?.textContent ??
            "",
        ),
      );
      await shot("reset");
      await page.getByRole("tab", { name: "Operations" }).click();
      const first = page
        .getByRole("table", { name: "Audit operations" })
        .locator("tbody tr")
        .first();
      await first.filter({ hasText: "rateLimitReset" }).waitFor();
      assert.match(
        await first.innerText(),
        /alice.*SUP-1301 Bob verified by phone/s,
      );
      await shot("recorded");
    },
  },
  {
    name: "admin-roles",
    run: async (page, shot) => {
      // Keyboard: the tabs follow the arrow keys, Home and End.
      await page.getByRole("tab", { name: "Audit trail" }).focus();
      await page.keyboard.press("End");
      const roles = page.getByRole("tab", { name: "Roles" });
      assert.equal(await roles.getAttribute("aria-selected"), "true");
      assert.ok(await roles.evaluate((el) => el === document.activeElement));
      await page.keyboard.press("ArrowRight");
      assert.equal(
        await page
          .getByRole("tab", { name: "Audit trail" })
          .getAttribute("aria-selected"),
        "true",
      );
      await page.keyboard.press("ArrowLeft");
      await page.getByLabel("Scope", { exact: true }).fill("team:acme");
      await page.getByRole("button", { name: "Show members" }).click();
      const table = page.getByRole("table", { name: "Members of team:acme" });
      await table.getByText("dave").first().waitFor();
      await page.getByLabel("User id", { exact: true }).fill("carol");
      await page.getByLabel("Role", { exact: true }).selectOption("moderator");
      await confirmWithReason(
        page,
        "Grant role",
        reasonOf("SUP-1302", "Carol moderates acme this week"),
        "Confirm grant",
      );
      await page
        .getByRole("status")
        .filter({ hasText: "Granted moderator to carol" })
        .waitFor();
      const revoke = page.getByRole("button", {
        name: "Revoke moderator from carol",
      });
      await revoke.waitFor();
      await shot("granted");
      await confirmWithReason(
        page,
        "Revoke moderator from carol",
        reasonOf("SUP-1303", "the week is over"),
        "Confirm revoke",
      );
      await revoke.waitFor({ state: "detached" });
      await shot("revoked");
      await page.getByRole("tab", { name: "Operations" }).click();
      const rows = page
        .getByRole("table", { name: "Audit operations" })
        .locator("tbody tr");
      await rows.first().filter({ hasText: "revokeRole" }).waitFor();
      assert.match(await rows.nth(1).innerText(), /grantRole.*SUP-1302/s);
    },
  },
];

const users: Record<string, string> = {
  "support-audit": "sam",
  "member-refused": "bob",
  "admin-migrations": "alice",
  "admin-rate-limit": "alice",
  "admin-roles": "alice",
};

/** What a hostile client can reach over the HTTP API without a browser. */
async function hostileHttp(url: string) {
  const post = async (kind: string, body: unknown, user?: string) => {
    const res = await fetch(`${url}api/${kind}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(user ? { authorization: `Bearer ${user}` } : {}),
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json().catch(() => null)) as Record<
        string,
        unknown
      > | null,
    };
  };
  // Internal functions, wrong kinds and paths outside convex/ are not reachable.
  assert.equal(
    (await post("mutation", { path: "init:seed", args: {} }, "alice")).status,
    404,
  );
  assert.equal(
    (await post("mutation", { path: "ops:auditTrail", args: {} }, "alice"))
      .status,
    404,
  );
  assert.equal(
    (await post("query", { path: "../src/test:x", args: {} }, "alice")).status,
    404,
  );
  assert.equal(
    (await post("query", { path: "ops:constructor", args: {} }, "alice"))
      .status,
    404,
  );
  assert.equal((await post("query", "{not json", "alice")).status, 400);
  // Without a user, the API refuses with the code the console puts in words.
  const anon = await post("query", { path: "ops:opsConfig", args: {} });
  assert.equal(
    (anon.body?.errorData as { code?: string } | undefined)?.code,
    "UNAUTHENTICATED",
  );
  // A member cannot change anything, whatever they send.
  const reset = await post(
    "mutation",
    {
      path: "ops:rateLimitReset",
      args: { name: "pinAttempt", key: "bob", reason: "SUP-1 let me in" },
    },
    "bob",
  );
  assert.equal(
    (reset.body?.errorData as { code?: string } | undefined)?.code,
    "FORBIDDEN",
  );
  console.log("ok   hostile-http");
}

const started = Date.now();
const server = await startConsoleServer({ port: 0 });
await hostileHttp(server.url);
let browser: Browser | undefined;
const failures: string[] = [];
const shots: string[] = [];
try {
  browser = await chromium.launch({
    executablePath: EXECUTABLE,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  for (const walk of walks) {
    if (only.length && !only.includes(walk.name)) continue;
    const context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    let n = 0;
    const shot = async (label: string) => {
      const file = path.join(OUT, `${walk.name}-${++n}-${label}.png`);
      await page.screenshot({ path: file, fullPage: true });
      shots.push(path.relative(root, file));
    };
    const t0 = Date.now();
    try {
      await page.goto(`${server.url}?as=${users[walk.name]}`);
      await walk.run(page, shot);
      if (problems.length) throw new Error(problems.join("\n"));
      console.log(`ok   ${walk.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      await shot("failure").catch(() => {});
      failures.push(walk.name);
      console.log(
        `FAIL ${walk.name}: ${(e as Error).message}${problems.length ? `\n${problems.join("\n")}` : ""}`,
      );
    }
    await context.close();
  }
} finally {
  await browser?.close();
  await server.close();
}
console.log(`screenshots:\n${shots.map((s) => `  ${s}`).join("\n")}`);
console.log(
  `${failures.length ? `${failures.length} walk(s) failed: ${failures.join(", ")}` : "all browser walks passed"} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failures.length ? 1 : 0);
