import { api, urls } from "../lib/api.js";
import { formatDateTime, formatNumber, h } from "../lib/dom.js";
import { statusOf, typeName } from "../lib/catalog.js";
import { onImportsChanged } from "../lib/imports-channel.js";
import { tickets } from "../lib/newest.js";
import { poll } from "../lib/poll.js";
import { pages } from "../lib/router.js";
import { pager } from "../components/pager.js";
import { statusBadge } from "../components/status.js";
import { dataTable } from "../components/table.js";

export function importsPage({ app }) {
  const table = dataTable("Imports", ["Name", "Type", "Status", "Rows", "Created", "Created by", "ACTION"]);
  const paging = pager(load);
  const ticket = tickets();

  function row(item) {
    const rows = item.result ? item.result.rows : item.progress.rows_processed || null;
    return h("tr", {},
      h("td", {}, item.name),
      h("td", {}, typeName(item.type)),
      h("td", {}, statusBadge(item)),
      h("td", { class: "num" }, rows === null ? "—" : formatNumber(rows)),
      h("td", {}, formatDateTime(item.created_at)),
      h("td", {}, item.created_by),
      h("td", {}, h("a", { href: pages.import(app.slug, item.id), "aria-label": `View ${item.name}` }, "View")));
  }

  // Answers whether something on the page is still running, which sets the polling pace.
  async function load() {
    const isNewest = ticket();
    const result = await api(urls.imports(app.slug, { limit: 20, cursor: paging.cursor() }));
    if (!isNewest()) return true; // the newer request decides; keep the pace meanwhile
    // Keep keyboard focus on the same tooltip trigger across a refresh.
    const focusable = () => [...table.body.querySelectorAll("[tabindex], a")];
    const focused = table.body.contains(document.activeElement) ? focusable().indexOf(document.activeElement) : -1;
    table.show(result.items.map(row), "No imports yet.");
    if (focused >= 0) focusable()[focused]?.focus();
    paging.shown(result.next_cursor);
    return result.items.some((item) => statusOf(item.status).active);
  }

  const stopPolling = poll(load);
  const unsubscribe = onImportsChanged(app.slug, stopPolling.now);
  const stop = () => { stopPolling(); unsubscribe(); };

  const newButton = app.role === "admin"
    ? h("button", {
        type: "button", class: "primary",
        // The Add Imports dialog opens in a new browser tab, as the help article describes.
        onClick: () => window.open(pages.newImport(app.slug), "_blank"),
      }, "NEW")
    : null;
  const node = h("div", {},
    h("div", { class: "toolbar" }, h("h2", {}, "Imports"), newButton),
    table.node,
    paging.node);
  return { node, dispose: stop };
}
