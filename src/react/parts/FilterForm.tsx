/** The filters of the audit trail and operations list: time range, table, actor, function. */
import { useState, type FormEvent } from "react";
import { parseLocalTime } from "../format.js";
import { SelectFilter } from "./SelectFilter.js";
import { TextFilter } from "./TextFilter.js";

/** Filters of the audit trail and operations list. */
export type AuditFilters = {
  from?: number;
  to?: number;
  table?: string;
  actorId?: string;
  functionName?: string;
};

export function FilterForm(props: {
  tables: readonly string[];
  withTable: boolean;
  onApply: (f: AuditFilters) => void;
}) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [table, setTable] = useState("");
  const [actor, setActor] = useState("");
  const [fn, setFn] = useState("");
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const f: AuditFilters = {};
    const fromMs = parseLocalTime(from);
    const toMs = parseLocalTime(to);
    if (fromMs !== undefined) f.from = fromMs;
    if (toMs !== undefined) f.to = toMs;
    if (table) f.table = table;
    if (actor.trim()) f.actorId = actor.trim();
    if (fn.trim()) f.functionName = fn.trim();
    props.onApply(f);
  };
  return (
    <form
      className="opskit-filters"
      role="search"
      aria-label="Filters"
      onSubmit={apply}
    >
      <TextFilter
        label="From"
        type="datetime-local"
        step={1}
        value={from}
        onChange={setFrom}
      />
      <TextFilter
        label="To"
        type="datetime-local"
        step={1}
        value={to}
        onChange={setTo}
      />
      {props.withTable && (
        <SelectFilter
          label="Table"
          value={table}
          onChange={setTable}
          options={[
            { value: "", text: "Any table" },
            ...props.tables.map((t) => ({ value: t, text: t })),
          ]}
        />
      )}
      <TextFilter
        label="Actor"
        value={actor}
        placeholder="user id"
        onChange={setActor}
      />
      <TextFilter
        label="Function"
        value={fn}
        placeholder="module:function"
        onChange={setFn}
      />
      <button type="submit" className="opskit-btn opskit-btn-primary">
        Apply filters
      </button>
    </form>
  );
}
