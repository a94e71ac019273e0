/**
 * Limits both sides of the audit log enforce: the client refuses first with
 * a helpful message, the component refuses again for any other caller.
 */

/** Longest reason accepted (after trimming): a justification, not a document. */
export const MAX_REASON_LENGTH = 2000;

/**
 * Largest page a list query of the component serves (and a
 * `reconcileRecorded` page walks); bigger requests are refused, not truncated.
 */
export const MAX_PAGE_SIZE = 500;
