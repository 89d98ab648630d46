import { formatNumber, h, uid } from "../lib/dom.js";
import { hasFailed, statusOf } from "../lib/catalog.js";
import { wentThrough } from "../lib/outcome.js";
import { counted } from "../lib/plural.js";

// What an import's badge says. Its status, as the API names it, except where that alone would
// overstate what happened to the cases: a check-only run changed nothing, a skip import left
// rows out, and a reverted import was taken back. Only an import that went through is told
// apart this way.
export function outcomeOf(item) {
  const status = statusOf(item.status);
  const r = item.result;
  if (!wentThrough(item)) return status;
  if (item.reverted_by) return { key: "reverted", symbol: "↺", label: "Reverted" };
  if (item.validate_only) {
    const skipped = r.failed ? `; ${counted(r.failed, "row")} would be skipped` : "";
    return { key: "checked", symbol: "◎",
             label: `Checked: would create ${formatNumber(r.created)}, update ${formatNumber(r.updated)}${skipped}` };
  }
  if (r.failed) return { key: "partial", symbol: "⚠", label: `${status.label} with ${counted(r.failed, "failed row")}` };
  return status;
}

// A tooltip shown (by CSS, on hover or focus) is kept inside the window: moved left when its
// badge sits near the right edge.
function place(tip) {
  tip.style.left = "";
  const { left, right } = tip.getBoundingClientRect();
  const room = document.documentElement.clientWidth - 8;
  if (right > room) tip.style.left = `${Math.max(room - right, 8 - left)}px`;
}

// An import's sign and words. A failed import's badge can be hovered or focused to show the
// error summary as a tooltip, as the help article describes.
export function statusBadge(item) {
  const shown = outcomeOf(item);
  const badge = h("span", { class: `status status-${shown.key}` });
  const glyph = h("span", { class: "status-icon", "aria-hidden": "true" }, shown.symbol);
  const word = h("span", { class: "status-word" }, shown.label);
  if (hasFailed(item) && item.error) {
    const tip = h("span", { class: "tooltip", role: "tooltip", id: uid("tip") }, item.error.summary);
    const trigger = h("span", { class: "status-trigger", tabindex: "0", "aria-describedby": tip.id,
                                onMouseenter: () => place(tip), onFocus: () => place(tip) }, glyph, word);
    badge.append(trigger, tip);
    return badge;
  }
  badge.append(glyph, word);
  return badge;
}
