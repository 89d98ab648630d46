import { api, urls } from "../lib/api.js";
import { clear, field, formatDateTime, h, setFieldError } from "../lib/dom.js";
import { dataTable } from "../components/table.js";

export function tokensPage({ app }) {
  const name = h("input", { type: "text", maxLength: 100, required: true, autocomplete: "off" });
  const expires = h("input", { type: "number", min: 1, max: 3650, placeholder: "never" });
  const created = h("div", { "aria-live": "polite" });
  const table = dataTable("API tokens", ["Name", "Prefix", "Created", "Expires", "Last used", ""]);

  async function load() {
    const page = await api(urls.tokens(app.slug));
    table.show(page.items.map((token) => h("tr", {},
      h("td", {}, token.name), h("td", {}, h("code", {}, token.prefix)),
      h("td", {}, formatDateTime(token.created_at)),
      h("td", {}, token.expires_at ? formatDateTime(token.expires_at) : "never"),
      h("td", {}, token.last_used_at ? formatDateTime(token.last_used_at) : "—"),
      h("td", {}, h("button", { type: "button", "aria-label": `Revoke ${token.name}`, async onClick() {
        await api(urls.token(app.slug, token.id), { method: "DELETE" });
        load();
      } }, "Revoke")))), "No tokens yet.");
  }

  function showSecret(token) {
    // A read-only textarea that wraps: the whole token shows at any width, none of it scrolled away.
    const secret = h("textarea", { readOnly: true, value: token.token, class: "secret", rows: 2, spellcheck: false });
    const copied = h("span", { class: "muted", "aria-live": "polite" });
    const copy = h("button", { type: "button", async onClick() {
      secret.select();
      try {
        await navigator.clipboard.writeText(token.token);
        copied.textContent = "Copied.";
      } catch {
        copied.textContent = "Press Ctrl+C to copy the selected token.";
      }
    } }, "Copy");
    const box = field("New token", secret, copied);
    // The Copy button sits beside the token, as wide as its word.
    box.insertBefore(h("div", { class: "secret-row" }, secret, copy), copied);
    clear(created).append(h("div", { class: "card notice" },
      h("p", {}, "Copy this token now: it is shown only once."), box));
    secret.focus({ preventScroll: true });
    secret.select();
    secret.scrollTop = 0;
  }

  const form = h("form", {
    class: "inline-form",
    async onSubmit(event) {
      event.preventDefault();
      setFieldError(name, "");
      try {
        const json = { name: name.value.trim() };
        if (expires.value) json.expires_days = Number(expires.value);
        showSecret(await api(urls.tokens(app.slug), { method: "POST", json }));
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
    form, created, table.node);
  return { node };
}
