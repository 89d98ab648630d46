import { h } from "../lib/dom.js";
import { fixGrid } from "./fix-grid.js";

// A failed import's errors table, which an admin can switch to the grid of its failed rows to
// correct them in place (the grid is made when first shown, and kept with its edits).
export function fixRows(app, item, errorsTable, { onSubmitted }) {
  let grid = null;
  const holder = h("div", {}, errorsTable);
  const toggle = h("button", { type: "button", "aria-pressed": "false", onClick() {
    const showGrid = toggle.getAttribute("aria-pressed") !== "true";
    grid = grid || fixGrid(app, item, { onSubmitted });
    holder.replaceChildren(showGrid ? grid : errorsTable);
    toggle.setAttribute("aria-pressed", String(showGrid));
  } }, "Fix cells in place");
  return h("div", { class: "fix-switch" }, h("div", { class: "fix-toggle" }, toggle), holder);
}
