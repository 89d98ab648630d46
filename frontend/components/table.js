import { clear, h } from "../lib/dom.js";

// A table named (for screen readers and tests) by its hidden caption, with a header row. On a
// narrow screen each row is drawn as a card (styles.css), every cell under its column's name:
// the cells carry that name, and the roles keep the table a table once CSS has re-laid it out.
export function dataTable(name, columns) {
  const body = h("tbody", { role: "rowgroup" });
  const node = h("div", { class: "table-wrap" },
    h("table", { role: "table", class: "cards" },
      h("caption", { class: "visually-hidden" }, name),
      h("thead", { role: "rowgroup" },
        h("tr", { role: "row" }, columns.map((column) => h("th", { scope: "col", role: "columnheader" }, column)))),
      body));
  // Replaces the rows shown; with none, one row says `empty`.
  function show(rows, empty) {
    for (const row of rows) label(row);
    clear(body).append(...rows);
    if (!rows.length && empty) {
      body.append(h("tr", { role: "row", class: "empty" }, h("td", { role: "cell", colspan: columns.length }, empty)));
    }
  }
  function label(row) {
    row.setAttribute("role", "row");
    [...row.children].forEach((cell, i) => {
      cell.setAttribute("role", "cell");
      if (columns[i]) cell.dataset.label = columns[i];
    });
  }
  return { node, body, show };
}
