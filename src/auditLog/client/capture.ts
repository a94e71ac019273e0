/**
 * The recording database: a `ctx.db` stand-in for admin mutations that
 * refuses writes outside the declared tables and remembers, per touched
 * document, its state before the first write. At the end of the call the
 * recorder turns that into one entry per document.
 */
import type { GenericDatabaseWriter, GenericDataModel } from "convex/server";
import type { GenericId, Value } from "convex/values";
import { parseDbWrite, WRAPPED_DB } from "../../shared/dbCalls.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { changedPaths, redactDocument } from "./diff.js";
import type { EntryInput, EntryKind } from "../shared/validators.js";

type Doc = Record<string, Value | undefined>;
type Write = "insert" | "patch" | "replace" | "delete";

type Touched = { table: string; before: Doc | null; writes: Write[] };

/** Who is making the call, for refusal logs. */
export type RecorderContext = {
  functionName: string;
  actorId: string;
  actorKind: string;
};

/**
 * Records the writes of one admin call. Create one per call; use `db` in the
 * handler; call `entries()` once the handler has returned.
 */
export class WriteRecorder {
  private readonly touched = new Map<string, Touched>();
  /** The database the handler sees. */
  readonly db: GenericDatabaseWriter<GenericDataModel>;

  /**
   * @param raw - the unguarded database: before/after snapshots are read here,
   *   so what is recorded never depends on what the caller may see.
   * @param through - the database the handler's reads and writes go through
   *   (authz's row-rule guard, when the authorizer has one); defaults to `raw`.
   */
  constructor(
    private readonly raw: GenericDatabaseWriter<GenericDataModel>,
    readonly tables: readonly string[],
    private readonly who: RecorderContext,
    private readonly through: GenericDatabaseWriter<GenericDataModel> = raw,
  ) {
    this.db = this.wrap();
  }

  /** Logs and throws the scope refusal; the throw rolls the whole call back. */
  private refuse(write: Write, table: string | null, id?: string): never {
    logEvent("auditLog.refuse", {
      functionName: this.who.functionName,
      actorId: this.who.actorId,
      actorKind: this.who.actorKind,
      write,
      table,
      docId: id ?? null,
      allowed: this.tables,
    });
    throw opskitError(
      "FORBIDDEN",
      table === null
        ? `${this.who.functionName} may write only to ${this.tables.join(", ")}; refused a ${write} of a document in another table`
        : `${this.who.functionName} may write only to ${this.tables.join(", ")}; refused a ${write} in "${table}"`,
      { write, table, allowed: [...this.tables] },
    );
  }

  /** The declared table an id belongs to, or a refusal. */
  private tableOf(write: Write, id: string, explicit?: string): string {
    if (explicit !== undefined) {
      if (!this.tables.includes(explicit)) this.refuse(write, explicit, id);
      return explicit;
    }
    for (const table of this.tables)
      if (this.raw.normalizeId(table, id) !== null) return table;
    return this.refuse(write, null, id);
  }

  /**
   * Runs one write, recording the document's state before the first write
   * to it. A write that throws records nothing, so a handler that catches
   * the error and carries on leaves no phantom entry.
   */
  private async record(
    table: string,
    id: string,
    write: Exclude<Write, "insert">,
    run: () => Promise<void>,
  ): Promise<void> {
    const seen = this.touched.get(id);
    const before = seen
      ? null
      : ((await this.raw.get(id as GenericId<string>)) as Doc | null);
    await run();
    if (seen) seen.writes.push(write);
    else this.touched.set(id, { table, before, writes: [write] });
  }

  private wrap(): GenericDatabaseWriter<GenericDataModel> {
    const raw = this.through;
    // Writes accept both the id-only and the explicit-table forms, parsed
    // as Convex (and the row-rule guard underneath) parse them.
    /* eslint-disable @typescript-eslint/no-explicit-any */
    const split = (a: any[], n: number): [string | undefined, string, any] => {
      const call = parseDbWrite(n === 1 ? "delete" : "write", a);
      return [call.table, call.id, call.value];
    };
    const db = {
      [WRAPPED_DB]: raw,
      get: (...a: any[]) => (raw.get as any)(...a),
      query: (table: string) => raw.query(table),
      normalizeId: (table: string, id: string) => raw.normalizeId(table, id),
      get system() {
        return raw.system;
      },
      get vars() {
        return raw.vars;
      },
      insert: async (table: string, value: any) => {
        if (!this.tables.includes(table)) this.refuse("insert", table);
        const id = await raw.insert(table, value);
        this.touched.set(id, { table, before: null, writes: ["insert"] });
        return id;
      },
      patch: async (...a: any[]) => {
        const [explicit, id] = split(a, 2);
        const table = this.tableOf("patch", id, explicit);
        await this.record(table, id, "patch", () => (raw.patch as any)(...a));
      },
      replace: async (...a: any[]) => {
        const [explicit, id] = split(a, 2);
        const table = this.tableOf("replace", id, explicit);
        await this.record(table, id, "replace", () =>
          (raw.replace as any)(...a),
        );
      },
      delete: async (...a: any[]) => {
        const [explicit, id] = split(a, 1);
        const table = this.tableOf("delete", id, explicit);
        await this.record(table, id, "delete", () => (raw.delete as any)(...a));
      },
      table: (table: string) => ({
        get: (id: string) => (raw.get as any)(table, id),
        query: () => raw.query(table),
        insert: (value: any) => db.insert(table, value),
        patch: (id: string, value: any) => db.patch(table, id, value),
        replace: (id: string, value: any) => db.replace(table, id, value),
        delete: (id: string) => db.delete(table, id),
      }),
    };
    /* eslint-enable @typescript-eslint/no-explicit-any */
    return db as unknown as GenericDatabaseWriter<GenericDataModel>;
  }

  /**
   * One entry per touched document, in first-write order: its state before
   * the first write and after the last (read now), the changed field paths,
   * and the net kind of change. `redact` gives each table's redacted paths;
   * changed paths are computed before redaction, values never survive it.
   */
  async entries(
    redact: (table: string) => readonly string[],
  ): Promise<EntryInput[]> {
    const out: EntryInput[] = [];
    for (const [docId, t] of this.touched) {
      const after = (await this.raw.get(
        docId as GenericId<string>,
      )) as Doc | null;
      const paths = redact(t.table);
      out.push({
        table: t.table,
        docId,
        kind: netKind(t.before, after, t.writes),
        before: redactDocument(t.before, paths),
        after: redactDocument(after, paths),
        changed: changedPaths(t.before, after),
      });
    }
    return out;
  }
}

/**
 * The net effect of a sequence of writes to one document: insert when it did
 * not exist before, delete when it does not exist after, otherwise replace if
 * any write replaced it whole, else patch.
 */
export function netKind(
  before: Doc | null,
  after: Doc | null,
  writes: readonly Write[],
): EntryKind {
  if (before === null && after !== null) return "insert";
  if (after === null) return "delete";
  return writes.includes("replace") ? "replace" : "patch";
}
