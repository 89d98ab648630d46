import { ApiError, api, urls } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { announceImportsChanged } from "../lib/imports-channel.js";
import { go, pages } from "../lib/router.js";

// The plan's stored file as it was uploaded (admins may download it), or ApiError.
async function storedFile(slug, item) {
  let response;
  try {
    response = await fetch(urls.importFile(slug, item.id), { credentials: "same-origin" });
  } catch {
    throw new ApiError(0, { detail: "The server cannot be reached; check your connection." });
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  return response.blob();
}

const MAX_NAME = 200;

function nameFor(item, attempt) {
  const suffix = attempt === 1 ? " (checked again)" : ` (checked again ${attempt})`;
  return item.name.slice(0, MAX_NAME - suffix.length) + suffix;
}

// A new check-only import of the same stored file with the plan's type and options: the API
// has no "check again", so the browser sends the file back as a new upload.
async function checkAgain(slug, item) {
  const file = await storedFile(slug, item);
  for (let attempt = 1; ; attempt += 1) {
    const form = new FormData();
    form.append("name", nameFor(item, attempt));
    form.append("type", item.type);
    form.append("validate_only", "true");
    form.append("on_error", item.on_error);
    form.append("date_order", item.date_order);
    if (item.encoding) form.append("encoding", item.encoding);
    if (item.sheet) form.append("sheet", item.sheet);
    if (item.columns) form.append("columns", JSON.stringify(item.columns));
    form.append("file", file, item.file ? item.file.filename : "upload.csv");
    try {
      return await api(urls.imports(slug), { method: "POST", form });
    } catch (error) {
      if (error.code !== "name_taken" || attempt >= 20) throw error;
    }
  }
}

// "Check again": a button that makes the new check and opens it; when the file is gone (or
// cannot be downloaded), a link to start a new check with the file uploaded again.
export function checkAgainButton(app, item) {
  const message = h("p", { class: "form-message", role: "alert" });
  const button = h("button", { type: "button", class: "primary", async onClick() {
    button.disabled = true;
    message.textContent = "";
    try {
      const made = await checkAgain(app.slug, item);
      announceImportsChanged(app.slug);
      go(pages.import(app.slug, made.id));
    } catch (error) {
      message.textContent = error.code === "file_purged"
        ? "The plan's file was deleted past the time files are kept; upload it again in a new check."
        : error.message;
      message.append(" ", h("a", { href: pages.newImport(app.slug), target: "_blank" }, "Start a new check"));
    } finally {
      button.disabled = false;
    }
  } }, "Check again");
  return h("div", { class: "check-again" }, button, message);
}
