// Prints the unit-test totals from vitest's JSON report as one plain line,
// "N passed, N failed", which CI reads.
import { readFileSync } from "node:fs";
const r = JSON.parse(readFileSync(".vitest/results.json", "utf8"));
const skipped = r.numPendingTests + (r.numTodoTests ?? 0);
console.log(
  `${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`,
);
process.exit(r.numFailedTests === 0 && r.numPassedTests > 0 ? 0 : 1);
