import { api, urls } from "../lib/api.js";
import { field, h } from "../lib/dom.js";

export function signInPage({ onSignedIn }) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password", name: "password", autocomplete: "current-password", required: true,
  });
  const message = h("p", { class: "form-message", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    {
      class: "card narrow",
      async onSubmit(event) {
        event.preventDefault();
        message.textContent = "";
        button.disabled = true;
        try {
          const me = await api(urls.login(), {
            method: "POST", json: { email: email.value, password: password.value },
          });
          onSignedIn(me);
        } catch (error) {
          message.textContent = error.message;
          password.select();
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h1", {}, "Sign in"),
    field("Email", email),
    field("Password", password),
    message,
    button,
  );
  queueMicrotask(() => email.focus());
  return { node: form };
}
