import { api, urls } from "../lib/api.js";
import { clear, field, formatDateTime, h, setFieldError, uid } from "../lib/dom.js";
import { showSecret } from "../components/secret.js";
import { dataTable } from "../components/table.js";
import { deliveryList } from "../components/webhook-deliveries.js";
import { SUBSCRIBABLE as EVENTS, eventLabel } from "../lib/webhook-events.js";


// The app's webhooks (admins): register an endpoint (its signing secret shown once, with Copy),
// send it a test event, read its deliveries, delete it.
export function webhooksPage({ app }) {
  const url = h("input", { type: "url", required: true, autocomplete: "off", placeholder: "https://ci.example.org/hooks/caseimport" });
  const boxes = EVENTS.map(([key]) => h("input", { type: "checkbox", id: uid("check"), value: key,
    checked: key === "import.completed" || key === "import.failed" }));
  // Its error is named as field() names one, so that setFieldError finds it.
  const eventsId = uid("events");
  const events = h("fieldset", { class: "hook-events", id: eventsId },
    h("legend", {}, "Events"),
    EVENTS.map(([, label], i) => h("div", { class: "check" }, boxes[i], h("label", { for: boxes[i].id }, label))),
    h("p", { class: "field-error", id: `${eventsId}-error`, role: "alert" }));
  const created = h("div", { "aria-live": "polite" });
  const message = h("p", { class: "form-message", role: "alert" });
  const table = dataTable("Webhooks", ["URL", "Events", "Created", "ACTION"]);
  const shown = h("div");
  let deliveries = null;

  function showDeliveries(hook) {
    if (deliveries && deliveries.hook.id === hook.id) return deliveries.list.refresh();
    if (deliveries) deliveries.list.stop();
    deliveries = { hook, list: deliveryList(app, hook) };
    clear(shown).append(deliveries.list.node);
  }

  function confirmDelete(hook) {
    const heading = h("h2", { id: uid("dialog") }, "Delete this webhook?");
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": heading.id },
      heading,
      h("p", { class: "hook-url" }, hook.url),
      h("p", {}, "It will be sent nothing more, and its deliveries are deleted with it."),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onClick: () => dialog.close() }, "Cancel"),
        h("button", { type: "button", class: "primary danger", async onClick() {
          message.textContent = "";
          try {
            await api(urls.webhook(app.slug, hook.id), { method: "DELETE" });
          } catch (error) {
            message.textContent = error.message;
          }
          dialog.close();
          if (deliveries && deliveries.hook.id === hook.id) {
            deliveries.list.stop();
            deliveries = null;
            clear(shown);
          }
          load();
        } }, "Delete webhook")));
    dialog.addEventListener("close", () => dialog.remove());
    // Inside the page, so that leaving the page takes the dialog with it.
    node.append(dialog);
    dialog.showModal();
  }

  async function sendTest(hook) {
    message.textContent = "";
    try {
      await api(urls.webhookTest(app.slug, hook.id), { method: "POST" });
      showDeliveries(hook);
    } catch (error) {
      message.textContent = error.message;
    }
  }

  async function load() {
    let page;
    try {
      page = await api(urls.webhooks(app.slug));
    } catch (error) {
      message.textContent = error.message;
      return;
    }
    table.show(page.items.map((hook) => h("tr", {},
      h("td", { class: "wrap hook-url" }, hook.url, hook.active ? null : h("span", { class: "muted small" }, " (paused)")),
      h("td", { class: "wrap" }, hook.events.map(eventLabel).join(", ")),
      h("td", {}, formatDateTime(hook.created_at)),
      h("td", { class: "hook-actions" },
        h("button", { type: "button", onClick: () => sendTest(hook) }, "Send test event"),
        h("button", { type: "button", onClick: () => showDeliveries(hook) }, "Deliveries"),
        h("button", { type: "button", class: "danger", onClick: () => confirmDelete(hook) }, "Delete")))),
    "No webhooks yet.");
  }

  const form = h("form", {
    class: "hook-form",
    async onSubmit(event) {
      event.preventDefault();
      setFieldError(url, "");
      setFieldError(events, "");
      message.textContent = "";
      const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
      if (!chosen.length) return setFieldError(events, "Choose at least one event.");
      try {
        const hook = await api(urls.webhooks(app.slug), { method: "POST", json: { url: url.value.trim(), events: chosen } });
        showSecret(created, { label: "Signing secret", value: hook.secret, what: "secret",
          intro: "Copy the signing secret now: it is shown only once. Receivers check each delivery's "
            + "Caseimport-Signature with it." });
        url.value = "";
        load();
      } catch (error) {
        const located = error.fieldMessage("url");
        if (located) setFieldError(url, located);
        else if (error.fieldMessage("events")) setFieldError(events, error.fieldMessage("events"));
        else message.textContent = error.message;
      }
    },
  }, field("Endpoint URL", url), events, h("div", {}, h("button", { type: "submit", class: "primary" }, "Add webhook")));

  load();
  const node = h("div", { class: "webhooks" },
    h("h2", {}, "Webhooks"),
    h("p", { class: "muted" }, "Each endpoint is sent a signed JSON POST when an import of this app finishes "
      + "(see the API docs for the body and how to check its signature)."),
    form, created, message, table.node, shown);
  return { node, dispose: () => deliveries && deliveries.list.stop() };
}
