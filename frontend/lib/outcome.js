// What an import came to, told from the API's status groups (never a status word): finished
// without being open to a corrected file, and with a result, it went through (a cancelled
// import has no result).
import { REVERT_TYPE, hasFailed, statusOf } from "./catalog.js";

export function wentThrough(item) {
  const status = statusOf(item.status);
  return status.finished && !status.attachable && item.result !== null;
}

// A checked run (validate_only) that went through is a plan: it can be applied exactly.
export const isPlan = (item) => item.validate_only && wentThrough(item);

// A completed import that applied rows, and is neither a revert nor reverted, can be undone.
export const isRevertible = (item) =>
  wentThrough(item) && !item.validate_only && !item.revert_of && !item.reverted_by
  && item.type !== REVERT_TYPE;

// A failed import whose file was read as rows, with rows in error: its cells can be corrected.
export const hasFixableRows = (item) =>
  hasFailed(item) && item.result !== null && !item.revert_of && Boolean(item.error && item.error.error_rows);
