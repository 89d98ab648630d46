import { api, urls } from "../lib/api.js";
import { clear, field, formatDateTime, formatNumber, h } from "../lib/dom.js";
import { pages } from "../lib/router.js";

const SORTS = [
  ["-updated_at", "Last changed, newest first"],
  ["-date_opened", "Date opened, newest first"],
  ["date_opened", "Date opened, oldest first"],
  ["tag_id", "Tag ID, A to Z"],
  ["-tag_id", "Tag ID, Z to A"],
];

export function casesPage({ app }) {
  const counts = h("dl", { class: "counts big", "aria-live": "polite" });
  const search = h("input", { type: "search", placeholder: "Tag ID or words of About" });
  const status = h("select", {},
    h("option", { value: "" }, "All"), h("option", { value: "active" }, "Active"),
    h("option", { value: "closed" }, "Closed"));
  const from = h("input", { type: "date" });
  const to = h("input", { type: "date" });
  const sort = h("select", {}, SORTS.map(([value, label]) => h("option", { value }, label)));
  const body = h("tbody");
  const summary = h("p", { class: "muted", "aria-live": "polite" });
  const previous = h("button", { type: "button", disabled: true }, "Previous page");
  const next = h("button", { type: "button", disabled: true }, "Next page");
  const cursors = [null]; // the cursor of each page seen, to go back
  let page = 0;

  async function loadStats() {
    const stats = await api(urls.caseStats(app.slug));
    clear(counts).append(
      h("div", {}, h("dt", {}, "Active"), h("dd", {}, formatNumber(stats.active))),
      h("div", {}, h("dt", {}, "Closed"), h("dd", {}, formatNumber(stats.closed))),
      h("div", {}, h("dt", {}, "Total"), h("dd", {}, formatNumber(stats.total))),
    );
  }

  const importLink = (id) =>
    id ? h("a", { href: pages.import(app.slug, id) }, "View import") : "—";

  // Filters change faster than answers come back: only the newest request's answer is shown.
  let newest = 0;
  async function load() {
    const ticket = ++newest;
    const params = {
      q: search.value.trim(), status: status.value, opened_from: from.value,
      opened_to: to.value, sort: sort.value, limit: 25, cursor: cursors[page],
    };
    const result = await api(urls.cases(app.slug, params));
    if (ticket !== newest) return;
    clear(body);
    for (const c of result.items) {
      body.append(h("tr", {},
        h("td", {}, c.tag_id),
        h("td", {}, c.status === "active" ? "Active" : "Closed"),
        h("td", {}, c.date_opened),
        h("td", { class: "wrap" }, c.about),
        h("td", {}, importLink(c.created_by_import)),
        h("td", {}, importLink(c.updated_by_import), h("br"),
          h("span", { class: "muted small" }, formatDateTime(c.updated_at)))));
    }
    if (!result.items.length) {
      body.append(h("tr", {}, h("td", { colspan: 6 }, "No cases match.")));
    }
    cursors[page + 1] = result.next_cursor;
    previous.disabled = page === 0;
    next.disabled = !result.next_cursor;
    summary.textContent = `Page ${page + 1}`;
  }

  function restart() {
    page = 0;
    cursors.length = 1;
    load();
  }
  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(restart, 300);
  });
  for (const control of [status, from, to, sort]) control.addEventListener("change", restart);
  previous.addEventListener("click", () => { page -= 1; load(); });
  next.addEventListener("click", () => { page += 1; load(); });

  loadStats();
  load();
  const node = h("div", {},
    counts,
    h("form", { class: "filters", role: "search", onSubmit: (e) => { e.preventDefault(); restart(); } },
      field("Search", search), field("Status", status), field("Opened from", from),
      field("Opened to", to), field("Sort", sort)),
    h("div", { class: "table-wrap" },
      h("table", {},
        h("caption", { class: "visually-hidden" }, "Cases"),
        h("thead", {}, h("tr", {},
          ["Tag ID", "Status", "Date opened", "About", "Created by import", "Last changed by import"]
            .map((name) => h("th", { scope: "col" }, name)))),
        body)),
    h("div", { class: "pager" }, previous, summary, next));
  return { node };
}
