import { clear, field, h } from "../lib/dom.js";

// A secret the API shows once (a new token, a webhook's signing secret), shown in `into`: the
// whole of it in a read-only textarea that wraps (a one-line box would cut it off on a phone),
// a Copy button beside it, and `intro` saying to copy it now. `what` names it in the fallback.
export function showSecret(into, { intro, label, value, what }) {
  const secret = h("textarea", { readOnly: true, value, class: "secret", rows: 2, spellcheck: false });
  const copied = h("span", { class: "muted", "aria-live": "polite" });
  const copy = h("button", { type: "button", async onClick() {
    secret.select();
    try {
      await navigator.clipboard.writeText(value);
      copied.textContent = "Copied.";
    } catch {
      copied.textContent = `Press Ctrl+C to copy the selected ${what}.`;
    }
  } }, "Copy");
  const box = field(label, secret, copied);
  // The Copy button sits beside the secret, as wide as its word.
  box.insertBefore(h("div", { class: "secret-row" }, secret, copy), copied);
  clear(into).append(h("div", { class: "card notice" }, h("p", {}, intro), box));
  secret.focus({ preventScroll: true });
  secret.select();
  secret.scrollTop = 0;
}
