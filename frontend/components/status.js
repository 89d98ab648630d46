import { h, uid } from "../lib/dom.js";

export const ACTIVE = new Set(["queued", "validating", "applying"]);

const LOOK = {
  draft: ["✎", "Draft"],
  queued: ["⧗", "Queued"],
  validating: ["⟳", "Validating"],
  applying: ["⟳", "Applying"],
  completed: ["✔", "Completed"],
  failed: ["✖", "Failed"],
  cancelled: ["⦸", "Cancelled"],
};

// An icon with its word. A failed import's icon can be hovered or focused to show the error
// summary as a tooltip, as the help article describes.
export function statusBadge(item) {
  const [icon, word] = LOOK[item.status] || ["?", item.status];
  const badge = h("span", { class: `status status-${item.status}` });
  const glyph = h("span", { class: "status-icon", "aria-hidden": "true" }, icon);
  if (item.status === "failed" && item.error) {
    const tip = h("span", { class: "tooltip", role: "tooltip", id: uid("tip") }, item.error.summary);
    const trigger = h(
      "span",
      { class: "status-trigger", tabindex: "0", "aria-describedby": tip.id },
      glyph,
      h("span", { class: "status-word" }, word),
    );
    badge.append(trigger, tip);
    return badge;
  }
  badge.append(glyph, h("span", { class: "status-word" }, word));
  return badge;
}
