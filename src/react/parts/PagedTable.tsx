/** A panel's paged table with its loading, error, empty and "Load more" states. */
import type { ReactNode } from "react";
import { EmptyRow, ErrorBox, LoadMoreButton } from "../common.js";
import type { PagesState } from "../hooks.js";

/**
 * One panel's paged table: the error, "Loading…", the rows (a muted `empty`
 * row when there are none) and "Load more". `columns` are the headers before
 * the last one, `actionColumn` (muted), which holds each row's button.
 */
export function PagedTable<Row>(props: {
  pages: PagesState<Row>;
  label: string;
  columns: string[];
  actionColumn: string;
  empty: string;
  row: (row: Row) => ReactNode;
}) {
  const { pages } = props;
  if (pages.error) return <ErrorBox error={pages.error} />;
  if (pages.status === "loading")
    return <p className="opskit-muted">Loading…</p>;
  return (
    <>
      <table className="opskit-table" aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
            <th>
              <span className="opskit-muted">{props.actionColumn}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {pages.rows.map(props.row)}
          {pages.rows.length === 0 && (
            <EmptyRow colSpan={props.columns.length + 1}>
              {props.empty}
            </EmptyRow>
          )}
        </tbody>
      </table>
      <LoadMoreButton pages={pages} />
    </>
  );
}
