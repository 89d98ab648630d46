import { api, urls } from "../lib/api.js";
import { clear, formatDateTime, formatNumber, h } from "../lib/dom.js";
import { poll } from "../lib/poll.js";
import { pages } from "../lib/router.js";
import { ACTIVE, statusBadge } from "../components/status.js";
import { onImportsChanged } from "../lib/imports-channel.js";

export function importsPage({ app }) {
  const body = h("tbody");
  const previous = h("button", { type: "button", disabled: true }, "Previous page");
  const next = h("button", { type: "button", disabled: true }, "Next page");
  const cursors = [null];
  let page = 0;
  const types = new Map();
  api(urls.importTypes()).then((list) => list.forEach((t) => types.set(t.key, t.label)));

  function row(item) {
    const rows = item.result ? item.result.rows : item.progress.rows_processed || null;
    return h("tr", {},
      h("td", {}, item.name),
      h("td", {}, types.get(item.type) || item.type),
      h("td", {}, statusBadge(item)),
      h("td", { class: "num" }, rows === null ? "—" : formatNumber(rows)),
      h("td", {}, formatDateTime(item.created_at)),
      h("td", {}, item.created_by),
      h("td", {}, h("a", { href: pages.import(app.slug, item.id),
                            "aria-label": `View ${item.name}` }, "View")));
  }

  // Answers whether something on the page is still running, which sets the polling pace. A poll
  // and a page change may cross: only the newest request's answer is shown.
  let newest = 0;
  async function load() {
    const ticket = ++newest;
    const result = await api(urls.imports(app.slug, { limit: 20, cursor: cursors[page] }));
    if (ticket !== newest) return true; // the newer request decides; keep the pace meanwhile
    // Keep keyboard focus on the same tooltip trigger across a refresh.
    const focused = document.activeElement && body.contains(document.activeElement)
      ? [...body.querySelectorAll("[tabindex], a")].indexOf(document.activeElement) : -1;
    clear(body);
    result.items.forEach((item) => body.append(row(item)));
    if (!result.items.length) {
      body.append(h("tr", {}, h("td", { colspan: 7 }, "No imports yet.")));
    }
    if (focused >= 0) body.querySelectorAll("[tabindex], a")[focused]?.focus();
    cursors[page + 1] = result.next_cursor;
    previous.disabled = page === 0;
    next.disabled = !result.next_cursor;
    return result.items.some((item) => ACTIVE.has(item.status));
  }

  const stopPolling = poll(load);
  const unsubscribe = onImportsChanged(app.slug, stopPolling.now);
  const stop = () => { stopPolling(); unsubscribe(); };
  previous.addEventListener("click", () => { page -= 1; load(); });
  next.addEventListener("click", () => { page += 1; load(); });

  const newButton = app.role === "admin"
    ? h("button", {
        type: "button", class: "primary",
        // The Add Imports dialog opens in a new browser tab, as the help article describes.
        onClick: () => window.open(pages.newImport(app.slug), "_blank"),
      }, "NEW")
    : null;
  const node = h("div", {},
    h("div", { class: "toolbar" }, h("h2", {}, "Imports"), newButton),
    h("div", { class: "table-wrap" },
      h("table", {},
        h("caption", { class: "visually-hidden" }, "Imports"),
        h("thead", {}, h("tr", {},
          ["Name", "Type", "Status", "Rows", "Created", "Created by", "ACTION"]
            .map((name) => h("th", { scope: "col" }, name)))),
        body)),
    h("div", { class: "pager" }, previous, next));
  return { node, dispose: stop };
}
