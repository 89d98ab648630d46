import { api, urls } from "../lib/api.js";
import { typeName } from "../lib/catalog.js";
import { clear, formatDateTime, formatNumber, h } from "../lib/dom.js";
import { pages } from "../lib/router.js";
import { fieldList } from "../components/changes.js";

// What an import did to the case, in the history's words.
const DONE = { create: "Created", update: "Changed", delete: "Deleted" };

// One case: its fields now, and every import that created, changed or deleted it, newest
// first, each with what it wrote (GET .../cases/{tag_id}/history).
export function casePage({ app, tag }) {
  const title = h("h2", {}, tag);
  const now = h("div", { "aria-live": "polite" });
  const history = h("ol", { class: "history" });
  const state = h("p", { class: "muted" }, "Loading the history…");
  const importLink = (id, name) => h("a", { href: pages.import(app.slug, id) }, name);

  async function loadCase() {
    try {
      const found = await api(urls.case(app.slug, tag));
      title.textContent = found.tag_id;
      clear(now).append(h("dl", { class: "case-fields" },
        term("Status", found.status === "active" ? "Active" : "Closed"),
        term("Date opened", found.date_opened),
        term("About", found.about),
        term("Last changed", formatDateTime(found.updated_at))));
    } catch (error) {
      // A revert may have deleted it; its history still tells what happened.
      clear(now).append(h("p", { class: "summary", role: "status" },
        error.status === 404 ? "There is no case with this Tag ID now." : error.message));
    }
  }

  async function loadHistory() {
    try {
      const found = await api(urls.caseHistory(app.slug, tag));
      clear(history).append(...found.items.map((entry) => h("li", { class: "history-entry" },
        h("p", { class: "history-what" },
          `${DONE[entry.action] || entry.action} by `, importLink(entry.import_id, entry.import_name)),
        h("p", { class: "muted small" }, [formatDateTime(entry.at), entry.by, typeName(entry.type),
          `line ${formatNumber(entry.line)}`].filter(Boolean).join(" · ")),
        fieldList(entry))));
      state.textContent = found.items.length ? "" : "No import has created or changed this case.";
    } catch (error) {
      // No such case: the page says so above.
      state.textContent = error.status === 404 ? "" : error.message;
    }
  }

  loadCase();
  loadHistory();
  const node = h("div", { class: "case-page" },
    h("p", {}, h("a", { href: pages.cases(app.slug) }, "← All cases")),
    title, now,
    h("section", { "aria-label": "History" }, h("h3", {}, "History"), state, history));
  return { node };
}

function term(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, value || "—"));
}
