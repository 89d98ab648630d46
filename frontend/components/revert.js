import { api, urls } from "../lib/api.js";
import { h, uid } from "../lib/dom.js";
import { announceImportsChanged } from "../lib/imports-channel.js";
import { counted, plural } from "../lib/plural.js";
import { go, pages } from "../lib/router.js";

// "Revert" on an import that applied rows: a confirmation naming what will be deleted and what
// restored (from the import's counts), with the choice to skip conflicts; then the revert's page.
export function revertControl(app, item) {
  const r = item.result;
  const heading = h("h2", { id: uid("dialog") }, `Revert “${item.name}”?`);
  const skip = h("input", { type: "checkbox", id: uid("check") });
  const message = h("p", { class: "form-message", role: "alert" });
  const what = [
    r.created ? `${counted(r.created, "case")} created by this import will be deleted.` : null,
    r.updated ? `${counted(r.updated, "case")} changed by this import will have ${plural(r.updated, "its", "their")} fields restored to what they were before.` : null,
  ].filter(Boolean);
  const confirm = h("button", { type: "submit", class: "primary danger" }, "Confirm revert");
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": heading.id },
    h("form", { method: "dialog", async onSubmit(event) {
      event.preventDefault();
      confirm.disabled = true;
      message.textContent = "";
      try {
        const made = await api(urls.importRevert(app.slug, item.id),
          { method: "POST", json: { on_error: skip.checked ? "skip" : "fail" } });
        announceImportsChanged(app.slug);
        dialog.close();
        go(pages.import(app.slug, made.id));
      } catch (error) {
        message.textContent = error.message;
      } finally {
        confirm.disabled = false;
      }
    } },
    heading,
    h("ul", { class: "revert-what" }, what.length ? what.map((line) => h("li", {}, line)) : h("li", {}, "This import changed no case.")),
    h("p", { class: "muted small" }, "A case changed again since this import (by a later import) is a conflict: "
      + "by default the revert then changes nothing and lists the conflicts."),
    h("div", { class: "check" }, skip,
      h("label", { for: skip.id }, "Skip conflicts: revert the other cases and list the conflicts")),
    message,
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", onClick: () => dialog.close() }, "Cancel"), confirm)));
  const open = h("button", { type: "button", class: "danger", onClick: () => {
    message.textContent = "";
    dialog.showModal();
  } }, "Revert");
  return h("div", { class: "revert" }, open, dialog);
}
