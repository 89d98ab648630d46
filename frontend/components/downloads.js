import { urls } from "../lib/api.js";
import { h } from "../lib/dom.js";

// The files an import offers, each only when it applies: the file as uploaded (admins; not
// once purged), its errors as CSV, and its failed rows to fix (rows were read and failed; the
// file is still kept; not a revert, whose errors are conflicts).
export function downloads(app, item) {
  const file = item.file && !item.file.purged_at ? item.file : null;
  const error = item.error || { error_count: 0, error_rows: 0 };
  const links = [];
  if (file && app.role === "admin") {
    links.push(h("a", { href: urls.importFile(app.slug, item.id), download: "" },
      `Download the uploaded file (${file.filename})`));
  }
  if (error.error_count) {
    links.push(h("a", { href: urls.importErrorsCsv(app.slug, item.id), download: "" }, "Download errors (CSV)"));
  }
  if (file && error.error_rows && item.result !== null && !item.revert_of) {
    links.push(h("a", { href: urls.importFailedRowsCsv(app.slug, item.id), download: "" },
      "Download failed rows to fix (CSV)"));
  }
  if (!links.length) return null;
  return h("nav", { class: "downloads", "aria-label": "Downloads" },
    h("ul", {}, links.map((link) => h("li", {}, link))));
}
