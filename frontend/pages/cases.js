import { api, urls } from "../lib/api.js";
import { field, formatDateTime, h } from "../lib/dom.js";
import { tickets } from "../lib/newest.js";
import { pages } from "../lib/router.js";
import { caseCounts, counts, showCounts } from "../components/counts.js";
import { pager } from "../components/pager.js";
import { dataTable } from "../components/table.js";

const SORTS = [
  ["tag_id", "Tag ID, A to Z"],
  ["-tag_id", "Tag ID, Z to A"],
  ["-updated_at", "Last changed, newest first"],
  ["-date_opened", "Date opened, newest first"],
  ["date_opened", "Date opened, oldest first"],
];

export function casesPage({ app }) {
  const stats = counts([], { big: true, live: true });
  const search = h("input", { type: "search", placeholder: "Tag ID or words of About" });
  const status = h("select", {},
    h("option", { value: "" }, "All"), h("option", { value: "active" }, "Active"),
    h("option", { value: "closed" }, "Closed"));
  const from = h("input", { type: "date" });
  const to = h("input", { type: "date" });
  const sort = h("select", {}, SORTS.map(([value, label]) => h("option", { value }, label)));
  const table = dataTable("Cases",
    ["Tag ID", "Status", "Date opened", "About", "Created by import", "Last changed by import"]);
  const paging = pager(load, { numbered: true });
  const ticket = tickets();

  async function loadStats() {
    showCounts(stats, caseCounts(await api(urls.caseStats(app.slug))));
  }

  const importLink = (id) => (id ? h("a", { href: pages.import(app.slug, id) }, "View import") : "—");

  async function load() {
    const isNewest = ticket();
    const result = await api(urls.cases(app.slug, {
      q: search.value.trim(), status: status.value, opened_from: from.value,
      opened_to: to.value, sort: sort.value, limit: 25, cursor: paging.cursor(),
    }));
    if (!isNewest()) return;
    table.show(result.items.map((c) => h("tr", {},
      h("td", {}, h("a", { href: pages.case(app.slug, c.tag_id) }, c.tag_id)),
      h("td", {}, c.status === "active" ? "Active" : "Closed"),
      h("td", {}, c.date_opened),
      h("td", { class: "wrap" }, c.about),
      h("td", {}, importLink(c.created_by_import)),
      h("td", {}, importLink(c.updated_by_import), h("br"),
        h("span", { class: "muted small" }, formatDateTime(c.updated_at))))), "No cases match.");
    paging.shown(result.next_cursor);
  }

  function restart() {
    paging.reset();
    load();
  }
  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(restart, 300);
  });
  for (const control of [status, from, to, sort]) control.addEventListener("change", restart);

  loadStats();
  load();
  const node = h("div", {},
    stats,
    h("form", { class: "filters", role: "search", onSubmit: (e) => { e.preventDefault(); restart(); } },
      field("Search", search), field("Status", status), field("Opened from", from),
      field("Opened to", to), field("Sort", sort)),
    table.node,
    paging.node);
  return { node };
}
