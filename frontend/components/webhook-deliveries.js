import { api, urls } from "../lib/api.js";
import { formatDateTime, formatNumber, h } from "../lib/dom.js";
import { tickets } from "../lib/newest.js";
import { poll } from "../lib/poll.js";
import { eventLabel } from "../lib/webhook-events.js";
import { pager } from "./pager.js";
import { dataTable } from "./table.js";

// A delivery's state as people say it (docs/webhooks.md).
const STATES = { pending: "Pending", delivered: "Delivered", failed: "Gave up" };

// How the last attempt went: the endpoint's answer, or why there was none.
function lastAttempt(delivery) {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return "not tried yet";
  const answer = last.error || `answered ${last.status_code}`;
  return `${answer} (${formatNumber(Math.round(last.duration_ms))} ms, ${formatDateTime(last.at)})`;
}

// The deliveries to one endpoint, newest first, a page at a time; followed once a second
// while one is pending. Answers { node, refresh, stop }.
export function deliveryList(app, hook) {
  const table = dataTable("Deliveries", ["Event", "State", "Attempts", "Last attempt", "Next attempt"]);
  const paging = pager(() => stop.now());
  const ticket = tickets();
  const message = h("p", { class: "form-message", role: "alert" });

  async function load() {
    const isNewest = ticket();
    let page;
    try {
      page = await api(urls.webhookDeliveries(app.slug, hook.id, { limit: 20, cursor: paging.cursor() }));
    } catch (error) {
      if (isNewest()) message.textContent = error.message;
      return false; // asked again at the idle pace, or at once by Deliveries
    }
    if (!isNewest()) return true;
    message.textContent = "";
    table.show(page.items.map((d) => h("tr", {},
      h("td", { class: "wrap" }, eventLabel(d.event.type), h("br"),
        h("span", { class: "muted small" }, `${d.event.type} · ${formatDateTime(d.event.created_at)}`)),
      h("td", {}, STATES[d.state] || d.state),
      h("td", { class: "num" }, formatNumber(d.attempt_count)),
      h("td", { class: "wrap" }, lastAttempt(d)),
      h("td", {}, d.next_attempt_at ? formatDateTime(d.next_attempt_at) : "—"))), "Nothing sent yet.");
    paging.shown(page.next_cursor);
    return page.items.some((d) => d.state === "pending");
  }

  const stop = poll(load);
  const node = h("section", { class: "deliveries", "aria-label": `Deliveries to ${hook.url}` },
    h("h3", {}, "Deliveries to ", h("span", { class: "hook-url" }, hook.url)), message, table.node, paging.node);
  return { node, refresh: () => stop.now(), stop };
}
