import { api, urls } from "../lib/api.js";
import { field, formatNumber, h } from "../lib/dom.js";
import { tickets } from "../lib/newest.js";
import { pager } from "./pager.js";
import { dataTable } from "./table.js";

// The filter's choices, by the API's action word (an empty value shows every row).
const SHOWN = { create: "Creates", update: "Updates", unchanged: "Unchanged rows", failed: "Rows with errors" };
const ACTION = { create: "Create", update: "Update", unchanged: "Unchanged", failed: "Error", delete: "Delete" };

const shown = (value) => (value === null || value === undefined || value === "" ? "(empty)" : String(value));

// A create lists each field's value, a delete each value removed; an update each changed
// field as old → new. (The case page's history shows its changes the same way.)
export function fieldList(change) {
  if (!change.fields.length) return "—";
  return h("ul", { class: "change-fields" }, change.fields.map((f) =>
    h("li", {}, h("span", { class: "change-field" }, f.field), ": ",
      change.action === "create" ? shown(f.new)
        : change.action === "delete" ? h("del", {}, shown(f.old))
        : [h("del", {}, shown(f.old)), h("span", { "aria-hidden": "true" }, " → "),
           h("span", { class: "visually-hidden" }, " changed to "), h("ins", {}, shown(f.new))])));
}

// What each row of an import does (or, checked only, would do), a page at a time, filtered by
// action.
export function changeList(slug, id, { title = "Changes" } = {}) {
  const filter = h("select", {}, h("option", { value: "" }, "All rows"),
    Object.entries(SHOWN).map(([value, label]) => h("option", { value }, label)));
  const table = dataTable(title, ["Line", "Action", "Tag ID", "Fields"]);
  const paging = pager(load);
  const ticket = tickets();
  const message = h("p", { class: "form-message", role: "alert" });

  async function load() {
    const isNewest = ticket();
    let page;
    try {
      page = await api(urls.importChanges(slug, id, { limit: 50, cursor: paging.cursor(), action: filter.value }));
    } catch (error) {
      if (isNewest()) message.textContent = error.message;
      return;
    }
    if (!isNewest()) return;
    message.textContent = "";
    table.show(page.items.map((c) => h("tr", { class: `change-${c.action}` },
      h("td", { class: "num" }, formatNumber(c.line)),
      h("td", {}, ACTION[c.action] || c.action),
      h("td", {}, c.tag_id ?? "—"),
      h("td", { class: "wrap" }, fieldList(c)))), "No rows.");
    paging.shown(page.next_cursor);
  }
  filter.addEventListener("change", () => {
    paging.reset();
    load();
  });
  load();
  return h("div", { class: "changes" }, h("h3", {}, title),
    h("div", { class: "changes-filter" }, field("Show", filter)), message, table.node, paging.node);
}
