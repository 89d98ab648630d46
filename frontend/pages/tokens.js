import { api, urls } from "../lib/api.js";
import { field, formatDateTime, h, setFieldError } from "../lib/dom.js";
import { showSecret } from "../components/secret.js";
import { dataTable } from "../components/table.js";

export function tokensPage({ app }) {
  const name = h("input", { type: "text", maxLength: 100, required: true, autocomplete: "off" });
  const expires = h("input", { type: "number", min: 1, max: 3650, placeholder: "never" });
  const created = h("div", { "aria-live": "polite" });
  const message = h("p", { class: "form-message", role: "alert" });
  const table = dataTable("API tokens", ["Name", "Prefix", "Created", "Expires", "Last used", ""]);

  async function revoke(token) {
    message.textContent = "";
    try {
      await api(urls.token(app.slug, token.id), { method: "DELETE" });
    } catch (error) {
      message.textContent = error.message;
      return;
    }
    load();
  }

  async function load() {
    let page;
    try {
      page = await api(urls.tokens(app.slug));
    } catch (error) {
      message.textContent = error.message;
      return;
    }
    table.show(page.items.map((token) => h("tr", {},
      h("td", {}, token.name), h("td", {}, h("code", {}, token.prefix)),
      h("td", {}, formatDateTime(token.created_at)),
      h("td", {}, token.expires_at ? formatDateTime(token.expires_at) : "never"),
      h("td", {}, token.last_used_at ? formatDateTime(token.last_used_at) : "—"),
      h("td", {}, h("button", { type: "button", "aria-label": `Revoke ${token.name}`, onClick: () => revoke(token) },
        "Revoke")))), "No tokens yet.");
  }

  const form = h("form", {
    class: "inline-form",
    async onSubmit(event) {
      event.preventDefault();
      setFieldError(name, "");
      message.textContent = "";
      try {
        const json = { name: name.value.trim() };
        if (expires.value) json.expires_days = Number(expires.value);
        const made = await api(urls.tokens(app.slug), { method: "POST", json });
        showSecret(created, { intro: "Copy this token now: it is shown only once.", label: "New token",
                              value: made.token, what: "token" });
        name.value = "";
        load();
      } catch (error) {
        setFieldError(name, error.fieldMessage("name") || error.message);
      }
    },
  }, field("Token name", name), field("Expires after (days)", expires),
  h("button", { type: "submit", class: "primary" }, "Create token"));

  load();
  const node = h("div", {},
    h("h2", {}, "API tokens"),
    h("p", { class: "muted" }, "Scripts send a token as Authorization: Bearer <token>. It acts as you, in this app only."),
    form, created, message, table.node);
  return { node };
}
