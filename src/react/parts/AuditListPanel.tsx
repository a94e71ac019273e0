/** The frame both audit lists share: heading, filter controls, paged table, the opened operation. */
import type { ReactNode } from "react";
import type { OpsApi } from "../../ops/validators.js";
import { PanelRoot } from "../common.js";
import { OperationDetail } from "../operation.js";
import type { FilteredPage } from "./useFilteredPage.js";

/**
 * A panel titled `heading` (its `<h2>` has id `headingId`): `controls` (the
 * filter form, export) unless the server refused the panel, the live table
 * (`children`), and below the panel the operation a row opened
 * (`list.setOpen`), closable.
 */
export function AuditListPanel<Row>(props: {
  api: Pick<OpsApi, "opsConfig" | "auditOperation" | "auditRevert">;
  unstyled?: boolean;
  heading: string;
  headingId: string;
  list: FilteredPage<Row>;
  controls: ReactNode;
  /** The list's `PagedTable` (of `list.pages`). */
  children: ReactNode;
}) {
  const { list } = props;
  return (
    <PanelRoot unstyled={props.unstyled}>
      <section className="opskit-panel" aria-labelledby={props.headingId}>
        <h2 id={props.headingId}>{props.heading}</h2>
        {!list.refused && props.controls}
        {props.children}
      </section>
      {list.open && (
        <OperationDetail
          api={props.api}
          operationId={list.open}
          onClose={() => list.setOpen(null)}
        />
      )}
    </PanelRoot>
  );
}
