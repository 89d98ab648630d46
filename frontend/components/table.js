import { clear, h } from "../lib/dom.js";

// A table named (for screen readers and tests) by its hidden caption, with a header row.
export function dataTable(name, columns) {
  const body = h("tbody");
  const node = h("div", { class: "table-wrap" },
    h("table", {},
      h("caption", { class: "visually-hidden" }, name),
      h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, column)))),
      body));
  // Replaces the rows shown; with none, one row says `empty`.
  function show(rows, empty) {
    clear(body).append(...rows);
    if (!rows.length && empty) body.append(h("tr", {}, h("td", { colspan: columns.length }, empty)));
  }
  return { node, body, show };
}
