import { api, urls } from "../lib/api.js";
import { formatNumber, h } from "../lib/dom.js";

// Every error of an import grouped by cause (code and column), the most frequent first, each
// with its first line and message: what to fix, before the table lists them one by one. The
// groups count the errors past the kept ones too.
export function errorGroups(slug, id) {
  const list = h("ul", { class: "error-groups-list" });
  const node = h("section", { class: "error-groups", "aria-label": "Errors by cause", hidden: true },
    h("h3", {}, "Errors by cause"), list);
  api(urls.importErrorSummary(slug, id)).then((summary) => {
    if (!summary.groups.length) return;
    for (const g of summary.groups) {
      const where = g.first_line === null ? "" : `, first on line ${formatNumber(g.first_line)}`;
      list.append(h("li", {},
        h("span", { class: "error-group-count" }, `${formatNumber(g.count)} × `),
        h("span", { class: "error-group-column" }, g.column || "the file"),
        h("span", { class: "muted small" }, ` (${g.code})${where}`),
        h("p", { class: "error-group-message" }, g.message)));
    }
    node.hidden = false;
  }, (error) => {
    // The table below still lists the errors; say why their causes are missing.
    list.replaceChildren(h("li", { role: "alert" }, `The errors by cause cannot be shown: ${error.message}`));
    node.hidden = false;
  });
  return node;
}
