/**
 * The public types of reading the log: what `list`, `listOperations`,
 * `history`, `getOperationPage`, `verify`, `reconcile` and
 * `reconcileRecorded` take and return. The entry (`../client.ts`)
 * re-exports them.
 */
import type {
  GenericDataModel,
  PaginationOptions,
  PaginationResult,
  TableNamesInDataModel,
} from "convex/server";
import type { GenericId } from "convex/values";
import type {
  ChainProblem,
  Entry,
  EntryKind,
  Operation,
} from "../shared/validators.js";

/** The time range (ms), order and page of `list`, `listOperations` and `history`. */
export type ListRange = {
  from?: number;
  to?: number;
  order?: "asc" | "desc";
  paginationOpts: PaginationOptions;
};

/**
 * What `list` reads, picked so that exactly one index serves it: a document
 * (`table` + `docId`), a table, an actor, a kind of change, an actor in a
 * table (`table` + `actorId`), an actor's changes of one kind (`actorId` +
 * `kind`), or everything — each within an optional time range. Any other
 * combination is a type error, and `INVALID_ARGUMENT` at runtime.
 */
export type ListArgs<DataModel extends GenericDataModel> = ListRange &
  (
    | {
        table: TableNamesInDataModel<DataModel>;
        docId?: string;
        actorId?: never;
        kind?: never;
      }
    | {
        table: TableNamesInDataModel<DataModel>;
        actorId: string;
        docId?: never;
        kind?: never;
      }
    | { actorId: string; kind?: EntryKind; table?: never; docId?: never }
    | { kind: EntryKind; table?: never; docId?: never; actorId?: never }
    | { table?: never; docId?: never; actorId?: never; kind?: never }
  );

/** What `history` takes: a document, and a page of its versions. */
export type HistoryArgs<Table extends string> = {
  table: Table;
  docId: GenericId<Table> | string;
  paginationOpts: PaginationOptions;
  order?: "asc" | "desc";
};

/** One version of a document, as `history` returns it. */
export type Version<Doc> = {
  entryId: string;
  operationId: string;
  time: number;
  actorId: string;
  functionName: string;
  kind: EntryKind;
  /** The document after this change (null once deleted). Redacted fields read {@link REDACTED}. */
  doc: Doc | null;
  changed: string[];
};

/** What `verify` takes: a time range or a resume point, and page bounds. */
export type VerifyArgs = {
  from?: number;
  to?: number;
  fromSeq?: number;
  /** With `fromSeq`: resume inside that operation (a previous result's `nextSnapshot`). */
  fromSnapshot?: number;
  pageSize?: number;
  maxPages?: number;
};

/** What `verify` found. */
export type VerifyResult = {
  /** True when every checked link and entry matches and nothing is missing. */
  ok: boolean;
  checked: number;
  problems: ChainProblem[];
  /** Operations appended but not yet sealed are not covered until `seal` runs. */
  pendingSeal: boolean;
  firstSeq: number | null;
  lastSeq: number | null;
  /**
   * False when `maxPages` (or, in a query, the transaction's read budget)
   * stopped the walk; continue with `{ fromSeq: nextSeq, fromSnapshot: nextSnapshot }`.
   */
  isDone: boolean;
  nextSeq: number;
  /** Where to resume inside operation `nextSeq` (0: at its start). */
  nextSnapshot: number;
};

/** One document `reconcile` found out of step with the log. */
export type Drift = {
  docId: string;
  /**
   * `unrecorded`: no admin mutation ever wrote it; `changed`: it differs from
   * its last recorded version; `deletedInLog`: the log says it was deleted,
   * yet it exists; `deletedOutside`: the log says it exists, yet it is gone.
   */
  status: "unrecorded" | "changed" | "deletedInLog" | "deletedOutside";
  changed: string[];
  /**
   * True when the recorded version was too large to load within the page's
   * read budget: drift was found by hash, and `changed` is empty. Read the
   * entry (`lastEntryId`) for the difference.
   */
  changedUnknown?: true;
  lastEntryId: string | null;
};

/** One page of `reconcile`: the documents checked and those out of step. */
export type ReconcileResult = {
  checked: number;
  drift: Drift[];
  continueCursor: string;
  isDone: boolean;
};

/**
 * One page of `reconcileRecorded({ table, paginationOpts })`: the documents
 * out of step in `page`, and how many recorded documents were `checked`.
 */
export type ReconcileRecordedPage = PaginationResult<Drift> & {
  checked: number;
};

/**
 * One page of `reconcileRecorded({ table, cursor, limit })`.
 * @deprecated the result of the deprecated `{ cursor, limit }` form; pass
 * `paginationOpts` and read {@link ReconcileRecordedPage}.
 */
export type ReconcileRecordedCursorResult = {
  checked: number;
  drift: Drift[];
  continueCursor: string | null;
  isDone: boolean;
};

/** One operation and a page of its entries, in index order (`getOperationPage` with `paginationOpts`). */
export type OperationPage = PaginationResult<Entry> & { operation: Operation };

/**
 * One operation and its entries from `fromIndex`.
 * @deprecated the result of the deprecated `{ operationId, fromIndex }` form
 * of `getOperationPage`; pass `paginationOpts` and read {@link OperationPage}.
 */
export type OperationFromIndex = {
  operation: Operation;
  entries: Entry[];
  nextIndex: number | null;
};
