/**
 * The index tables the component's list queries read (`ENTRY_INDEXES`,
 * `OPERATION_INDEXES`, `indexFor` in src/auditLog/component/paging.ts): each
 * row names an index of the schema whose fields are its equality fields then
 * `time`, and every filter shape the list validators accept picks the index
 * that serves exactly those filters.
 */
import { describe, expect, test } from "vitest";
import {
  auditLogSchema as schema,
  ENTRY_INDEXES,
  indexFor,
  OPERATION_INDEXES,
} from "../internal.js";

function indexFields(table: "entries" | "operations"): Map<string, string[]> {
  const indexes = (
    schema.tables[table] as unknown as {
      " indexes"(): Array<{ indexDescriptor: string; fields: string[] }>;
    }
  )[" indexes"]();
  return new Map(indexes.map((i) => [i.indexDescriptor, i.fields]));
}

describe("list index tables", () => {
  test("each row is a schema index: its equality fields, then time", () => {
    for (const [table, rows] of [
      ["entries", ENTRY_INDEXES],
      ["operations", OPERATION_INDEXES],
    ] as const) {
      const fields = indexFields(table);
      for (const [, index, eq] of rows)
        expect(fields.get(index), `${table}.${index}`).toEqual([...eq, "time"]);
    }
  });

  test("every accepted filter shape picks its own index, with its values in index order", () => {
    const document = { table: "posts", docId: "p1" };
    expect(indexFor(ENTRY_INDEXES, { document })).toEqual({
      index: "by_document",
      eq: [
        ["table", "posts"],
        ["docId", "p1"],
      ],
    });
    const entryCases: Array<[object, string, Array<[string, unknown]>]> = [
      [
        { actorId: "u1", table: "posts" },
        "by_table_actor",
        [
          ["table", "posts"],
          ["actorId", "u1"],
        ],
      ],
      [
        { kind: "delete", actorId: "u1" },
        "by_actor_kind",
        [
          ["actorId", "u1"],
          ["kind", "delete"],
        ],
      ],
      [{ table: "posts" }, "by_table", [["table", "posts"]]],
      [{ actorId: "u1" }, "by_actor", [["actorId", "u1"]]],
      [{ kind: "insert" }, "by_kind", [["kind", "insert"]]],
      [{}, "by_time", []],
    ];
    for (const [by, index, eq] of entryCases)
      expect(indexFor(ENTRY_INDEXES, by)).toEqual({ index, eq });
    expect(indexFor(OPERATION_INDEXES, { actorId: "u1" })).toEqual({
      index: "by_actor",
      eq: [["actorId", "u1"]],
    });
    expect(indexFor(OPERATION_INDEXES, { functionName: "f" })).toEqual({
      index: "by_function",
      eq: [["functionName", "f"]],
    });
    expect(indexFor(OPERATION_INDEXES, {})).toEqual({
      index: "by_time",
      eq: [],
    });
  });
});
