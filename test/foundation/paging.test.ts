/**
 * One check of `paginationOpts.numItems` for every paged list (auditLog's
 * lists and client pages, authz's listMembers, the ops pages): a whole
 * number from 1 to the list's maximum, refused otherwise with one wording.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { checkNumItems, isOpskitError, shown } from "../internal.js";

describe("checkNumItems", () => {
  test("passes exactly the whole numbers from 1 to max, and refuses the rest with a code and one wording", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -5, max: 1200 }),
          fc.double(),
          fc.constantFrom(NaN, Infinity, -Infinity, -0, 0.5, 2 ** 53),
        ),
        fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
        fc.option(fc.constantFrom("reconcileRecorded", "getOperationPage"), {
          nil: undefined,
        }),
        (numItems, max, where) => {
          const ok =
            Number.isInteger(numItems) &&
            numItems >= 1 &&
            (max === undefined || numItems <= max);
          let thrown: unknown;
          try {
            checkNumItems(numItems, { max, where });
          } catch (e) {
            thrown = e;
          }
          if (ok) {
            expect(thrown).toBeUndefined();
            return;
          }
          expect(isOpskitError(thrown, "INVALID_ARGUMENT")).toBe(true);
          const data = (thrown as { data: Record<string, unknown> }).data;
          expect(data.message).toBe(
            `${where === undefined ? "" : `${where}'s `}paginationOpts.numItems must be ${max === undefined ? "a positive integer" : `an integer from 1 to ${max}`}; got ${shown(numItems)}`,
          );
          expect(data.field).toBe("paginationOpts.numItems");
        },
      ),
      { seed: 4711, numRuns: 500 },
    );
  });
});
