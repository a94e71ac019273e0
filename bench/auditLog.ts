/**
 * auditLog benchmark: documents written per admin operation and documents
 * read per page, against convex-table-history on the same changes, in the
 * same process. Prints tables; asserts nothing about timings.
 *
 * Run: npx tsx bench/auditLog.ts
 */
import { silenceLogs } from "../src/shared/log.js";
import { makeTest, PAGE } from "./auditLogApp.js";
import { median, printTable, sized } from "./harness.js";

async function writesPerOperation() {
  const { t, api } = await makeTest();
  const rows: Array<Record<string, string | number>> = [];
  for (const touched of [1, 3, 10, 50]) {
    const ids = await t.mutation(api.seedUsers, { count: touched });
    const ours = await t.mutation(api.measureAdmin, { ids, role: "a" });
    const theirs = await t.mutation(api.editUsersTheirs, { ids, role: "b" });
    const append = await t.mutation(api.measureAppend, { entries: touched });
    const theirLog = theirs.documentsWritten;
    const ourLog =
      ours.total.documentsWritten - ours.handlerOnly.documentsWritten;
    rows.push({
      "docs touched": touched,
      "opskit log writes": ourLog,
      "opskit append reads": append.documentsRead,
      "opskit capture reads":
        ours.total.documentsRead - ours.handlerOnly.documentsRead,
      "table-history log writes": theirLog,
      "table-history log reads": theirs.documentsRead,
      "writes ours/theirs": ourLog / theirLog,
    });
  }
  // The measured calls above appended 8 operations (128 entries); seal them.
  const seal = await t.mutation(api.measureSeal, {});
  console.log(
    `\nSealing (off the append path, from a cron): ${seal.sealed} operations → ${seal.documentsRead} documents read, ${seal.documentsWritten} written (one patch per operation + the head).`,
  );
  printTable(
    "auditLog: per admin operation (ours: one operation, written again with its entries' hashes, + one entry per document; append reads only its own operation row; capture reads are the recorder reading touched documents. table-history: one row per document, no operation record)",
    rows,
  );
}

/** Patching one document of growing size: what the log writes, and what sealing it reads. */
async function largeDocuments() {
  const rows: Array<Record<string, string | number>> = [];
  for (const bytes of [1_000, 10_000, 300_000, 1_000_000]) {
    const { t, api } = await makeTest();
    const id = await t.mutation(api.seedBigUser, { bytes });
    const ours = await t.mutation(api.measureAdmin, { ids: [id], role: "a" });
    const seal = await t.mutation(api.measureSeal, {});
    rows.push({
      "document KiB": bytes / 1024,
      "log rows written":
        ours.total.documentsWritten - ours.handlerOnly.documentsWritten,
      "log KiB written":
        (ours.total.bytesWritten - ours.handlerOnly.bytesWritten) / 1024,
      "call KiB written": ours.total.bytesWritten / 1024,
      "seal docs read": seal.documentsRead,
      "seal KiB read": seal.bytesRead / 1024,
    });
  }
  printTable(
    "auditLog: one admin call patching one field of a large document (before/after past 8 KiB go to 512 KiB snapshot parts; sealing never reads them)",
    rows,
  );
}

async function pageReads() {
  const rows: Array<Record<string, string | number>> = [];
  for (const total of sized([100, 100_000], [100, 200])) {
    const { t, api } = await makeTest();
    const hotDoc = "hot-user";
    // Ten or more operations, so the paged document and actor have history.
    const perCall = Math.min(1000, total / 10);
    const seedStart = performance.now();
    for (let op = 0; op * perCall < total; op++) {
      await t.mutation(api.seedOurs, { op, entries: perCall, hotDoc });
      await t.mutation(api.seedTheirs, { op, entries: perCall, hotDoc });
    }
    const seedMs = performance.now() - seedStart;
    for (const by of [
      "document",
      "table",
      "actor",
      "table+actor",
      "actor+kind",
      "time",
    ]) {
      const times: number[] = [];
      let ours: Record<string, number> = {};
      for (let i = 0; i < 5; i++) {
        const s = performance.now();
        ours = await t.query(api.pageOurs, { by, hotDoc });
        times.push(performance.now() - s);
      }
      const theirTimes: number[] = [];
      let theirs: Record<string, number> | null = null;
      if (by === "document" || by === "time") {
        for (let i = 0; i < 5; i++) {
          const s = performance.now();
          theirs = await t.query(api.pageTheirs, { by, hotDoc });
          theirTimes.push(performance.now() - s);
        }
      }
      rows.push({
        "log entries": total,
        page: by,
        "opskit items": ours.items,
        "opskit docs read": ours.documentsRead,
        "opskit KiB read": ours.bytesRead / 1024,
        "opskit ms (median)": median(times),
        "table-history items": theirs?.items ?? "n/a",
        "table-history docs read": theirs?.documentsRead ?? "n/a",
        "table-history ms (median)": theirs ? median(theirTimes) : "n/a",
      });
    }
    console.log(
      `(seeded ${total} entries in each log in ${(seedMs / 1000).toFixed(1)} s)`,
    );
  }
  printTable(
    `auditLog: one page of ${PAGE}, at 100 and 100,000 entries (documents read must not grow with the log)`,
    rows,
  );
  console.log(
    "Note: convex-test emulates indexes by scanning its in-memory tables, so its milliseconds grow with\n" +
      "table size for both components; documents and bytes read are what a deployment bills and limits.",
  );
}

/** Runs the whole auditLog benchmark suite. */
export default async function main(): Promise<void> {
  const restoreLogs = silenceLogs();
  const started = performance.now();
  try {
    await writesPerOperation();
    await largeDocuments();
    await pageReads();
  } finally {
    restoreLogs();
  }
  console.log(
    `\nauditLog bench finished in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

await main();
