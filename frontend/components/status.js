import { h, uid } from "../lib/dom.js";
import { hasFailed, statusOf } from "../lib/catalog.js";

// A status's sign and word, as the API names them. A failed import's badge can be hovered or
// focused to show the error summary as a tooltip, as the help article describes.
export function statusBadge(item) {
  const status = statusOf(item.status);
  const badge = h("span", { class: `status status-${status.key}` });
  const glyph = h("span", { class: "status-icon", "aria-hidden": "true" }, status.symbol);
  const word = h("span", { class: "status-word" }, status.label);
  if (hasFailed(item) && item.error) {
    const tip = h("span", { class: "tooltip", role: "tooltip", id: uid("tip") }, item.error.summary);
    const trigger = h("span", { class: "status-trigger", tabindex: "0", "aria-describedby": tip.id }, glyph, word);
    badge.append(trigger, tip);
    return badge;
  }
  badge.append(glyph, word);
  return badge;
}
