import { api, urls } from "../lib/api.js";
import { field, formatDateTime, h } from "../lib/dom.js";
import { tickets } from "../lib/newest.js";
import { pages } from "../lib/router.js";
import { pager } from "../components/pager.js";
import { dataTable } from "../components/table.js";

// The audit log's actions (docs/api.md, "The audit log") as people say them; an action this
// SPA does not know shows its word.
const ACTIONS = {
  "auth.sign_in": "Signed in",
  "auth.sign_in_failed": "Sign-in refused",
  "token.created": "Token created",
  "token.revoked": "Token revoked",
  "app.created": "App created",
  "app.granted": "Role granted",
  "import.created": "Import created",
  "import.file_attached": "File attached",
  "import.cancelled": "Import cancelled",
  "import.applied": "Plan applied",
  "import.checked_again": "Checked again",
  "import.reverted": "Import reverted",
  "import.corrected": "Cells corrected",
  "webhook.created": "Webhook added",
  "webhook.updated": "Webhook changed",
  "webhook.secret_rotated": "Webhook secret rotated",
  "webhook.deleted": "Webhook deleted",
};

const detailText = (details) => Object.entries(details || {})
  .filter(([, value]) => value !== null && value !== "")
  .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
  .join(" · ");

// Who did what in the app, when and from where, newest first, a page at a time (admins).
export function auditPage({ app }) {
  const action = h("select", {}, h("option", { value: "" }, "All actions"),
    Object.entries(ACTIONS).filter(([word]) => !word.startsWith("auth."))
      .map(([word, label]) => h("option", { value: word }, label)));
  const table = dataTable("Audit log", ["When", "Who", "Action", "What", "From"]);
  const paging = pager(load, { numbered: true });
  const ticket = tickets();
  const message = h("p", { class: "form-message", role: "alert" });

  // An import's events link to it; the others name their target.
  function what(event) {
    const details = detailText(event.details);
    if (event.action.startsWith("import.") && event.target) {
      const name = (event.details && event.details.name) || "View import";
      return [h("a", { href: pages.import(app.slug, event.target) }, name),
        details ? h("span", { class: "muted small" }, ` ${details}`) : null];
    }
    return [event.target || "", details ? h("span", { class: "muted small" }, ` ${details}`) : null];
  }

  async function load() {
    const isNewest = ticket();
    let page;
    try {
      page = await api(urls.audit(app.slug, { action: action.value, limit: 50, cursor: paging.cursor() }));
    } catch (error) {
      message.textContent = error.message;
      return;
    }
    if (!isNewest()) return;
    message.textContent = "";
    table.show(page.items.map((event) => h("tr", {},
      h("td", {}, formatDateTime(event.at)),
      h("td", { class: "wrap" }, event.actor || "command line"),
      h("td", {}, ACTIONS[event.action] || event.action),
      h("td", { class: "wrap" }, what(event)),
      h("td", { class: "wrap" }, [event.address, event.token ? `token ${event.token}` : null]
        .filter(Boolean).join(" · ") || "—"))), "Nothing recorded yet.");
    paging.shown(page.next_cursor);
  }
  action.addEventListener("change", () => {
    paging.reset();
    load();
  });
  load();
  const node = h("div", { class: "audit" },
    h("h2", {}, "Audit log"),
    h("p", { class: "muted" }, "Who did what in this app, when and from where, newest first."),
    h("div", { class: "audit-filter" }, field("Action", action)),
    message, table.node, paging.node);
  return { node };
}
