import { api, urls } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { announceImportsChanged } from "../lib/imports-channel.js";
import { go, pages } from "../lib/router.js";

// "Check again": a button that asks the API for a new check of the plan's stored file (same
// type and options, nothing uploaded) and opens it; refused, the server's message, and when the
// file was purged, a link to start a new check with the file uploaded again.
export function checkAgainButton(app, item) {
  const message = h("p", { class: "form-message", role: "alert" });
  const button = h("button", { type: "button", class: "primary", async onClick() {
    button.disabled = true;
    message.textContent = "";
    try {
      const made = await api(urls.importCheckAgain(app.slug, item.id), { method: "POST" });
      announceImportsChanged(app.slug);
      go(pages.import(app.slug, made.id));
    } catch (error) {
      if (error.code !== "file_purged") {
        message.textContent = error.message;
        return;
      }
      message.append("The plan's file was deleted past the time files are kept; upload it again in a new check. ",
        h("a", { href: pages.newImport(app.slug), target: "_blank" }, "Start a new check"));
    } finally {
      button.disabled = false;
    }
  } }, "Check again");
  return h("div", { class: "check-again" }, button, message);
}
