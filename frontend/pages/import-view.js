import { api, urls } from "../lib/api.js";
import { statusOf, typeName } from "../lib/catalog.js";
import { clear, formatDateTime, formatNumber, h, setFieldError } from "../lib/dom.js";
import { announceImportsChanged, onImportsChanged } from "../lib/imports-channel.js";
import { follow } from "../lib/live.js";
import { tickets } from "../lib/newest.js";
import { counted } from "../lib/plural.js";
import { pages } from "../lib/router.js";
import { counts } from "../components/counts.js";
import { downloads } from "../components/downloads.js";
import { errorGroups } from "../components/error-groups.js";
import { filePicker } from "../components/file-picker.js";
import { pager } from "../components/pager.js";
import { statusBadge } from "../components/status.js";
import { dataTable } from "../components/table.js";
import { fixRows } from "../components/fix-rows.js";
import { planSection } from "../components/plan.js";
import { relations } from "../components/relations.js";
import { revertControl } from "../components/revert.js";
import { hasFixableRows, isPlan, isRevertible } from "../lib/outcome.js";

function progress(item) {
  const p = item.progress;
  const bar = h("progress", { max: 100, value: p.percent, "aria-label": "Progress" });
  const words = p.rows_total
    ? `${formatNumber(p.rows_processed)} of ${counted(p.rows_total, "row")}`
    : `${counted(p.rows_processed, "row")} read (${p.percent}% of the file)`;
  return h("div", { class: "progress" }, bar, h("span", {}, words));
}

const DELIMITERS = { ",": "comma", ";": "semicolon", "\t": "tab" };
const delimiterName = (d) => DELIMITERS[d] || `"${d}"`;

// What the user should confirm about an import that went through (or was checked).
const warnings = (list) => h("div", { class: "warnings", role: "note", "aria-label": "Warnings" },
  h("h3", {}, "Warnings"),
  h("ul", {}, list.map((w) => h("li", {}, w.message))));

// A revert also counts the cases it deleted; a check-only run changed nothing, so its counts
// say what it would do.
const result = (r, checked) => counts([["Rows", r.rows],
                                       [checked ? "Would create" : "Created", r.created],
                                       [checked ? "Would update" : "Updated", r.updated],
                                       ...(r.deleted ? [["Deleted", r.deleted]] : []),
                                       ["Unchanged", r.unchanged], ["Failed", r.failed]]);

// Rows read = created + updated + unchanged + failed (+ rows a failed row kept from applying),
// with the blank rows skipped and the file counted: the user can check every row is accounted.
function reconciliation(r, checked) {
  const parts = Object.entries({ [checked ? "to create" : "created"]: r.created,
                                  [checked ? "to update" : "updated"]: r.updated,
                                  unchanged: r.unchanged, failed: r.failed });
  if (r.deleted) parts.splice(2, 0, ["deleted", r.deleted]);
  const rest = r.rows - parts.reduce((sum, [, n]) => sum + n, 0);
  if (rest) parts.push(["not applied", rest]);
  const blank = r.blank_rows || 0;
  const text = `${counted(r.rows, "row")} read = `
    + parts.map(([word, n]) => `${formatNumber(n)} ${word}`).join(" + ")
    + `; ${counted(blank, "blank row")} skipped`
    + (r.sha256 ? `; file sha256 ${r.sha256}` : "") + ".";
  return h("p", { class: "reconciliation", "aria-label": "Reconciliation" }, text);
}

// Errors of the header stop an import before any row is read, so its rows have no errors yet.
const HEADER_ERRORS = new Set(["unknown_column", "duplicate_column", "missing_column"]);

// The kept row errors a page at a time; when the API kept fewer than there are, it says so.
// A revert's errors are its conflicts. The files to download are under the list (downloads.js).
function errorList(slug, id, { title = "Errors" } = {}) {
  const kept = h("div");
  const table = dataTable(title, ["Line", "Column", "Value", "Message"]);
  const paging = pager(load);
  const ticket = tickets();
  const message = h("p", { class: "form-message", role: "alert" });

  async function load() {
    const isNewest = ticket();
    let page;
    try {
      page = await api(urls.importErrors(slug, id, { limit: 50, cursor: paging.cursor() }));
    } catch (error) {
      if (isNewest()) message.textContent = error.message;
      return;
    }
    if (!isNewest()) return;
    message.textContent = "";
    clear(kept);
    if (page.items.some((e) => HEADER_ERRORS.has(e.code))) {
      kept.append(h("p", { class: "header-first", role: "note" },
        "Fix the header; then rows will be checked. No row is read while a column is unknown, "
        + "missing or named twice, so more errors may show once the header is right."));
    }
    if (page.error_count > page.kept_limit) {
      kept.append(h("p", { class: "muted" }, `The first ${counted(page.kept_limit, "error")} are listed; `
        + `${counted(page.error_count, "error")} on ${counted(page.error_rows, "row")} in all.`));
    }
    table.show(page.items.map((e) => h("tr", {},
      h("td", { class: "num" }, e.line ?? "—"), h("td", {}, e.column ?? "—"),
      h("td", { class: "wrap" }, e.value ?? ""), h("td", { class: "wrap" }, e.message))));
    paging.shown(page.next_cursor);
  }

  load();
  return h("div", {}, h("h3", {}, title), kept, message, table.node, paging.node);
}

export function importViewPage({ app, id }) {
  const title = h("h2", {}, "Import");
  const meta = h("p", { class: "muted" });
  const status = h("div", { class: "import-status", "aria-live": "polite" });
  const problem = h("p", { class: "form-message", role: "alert" });
  const details = h("div");
  const errors = h("div");
  let shownState = "";

  function uploader(label) {
    const send = h("button", { type: "submit", class: "primary" }, "Upload");
    const picker = filePicker(label, { action: send });
    return h("form", {
      class: "upload",
      async onSubmit(event) {
        event.preventDefault();
        setFieldError(picker.input, "");
        if (!picker.input.files.length) return setFieldError(picker.input, "Choose a file first.");
        const form = new FormData();
        form.append("file", picker.input.files[0]);
        send.disabled = true;
        try {
          await api(urls.importFile(app.slug, id), { method: "PUT", form });
          announceImportsChanged(app.slug);
          shownState = "";
          restart();
        } catch (error) {
          setFieldError(picker.input, error.fieldMessage("file") || error.message);
        } finally {
          send.disabled = false;
        }
      },
    }, picker.node);
  }

  function render(item) {
    const look = statusOf(item.status);
    title.textContent = item.name;
    meta.textContent = `${typeName(item.type)} · created ${formatDateTime(item.created_at)} by ${item.created_by}`
      + (item.file ? ` · ${item.file.filename}` : "") + (item.validate_only ? " · validate only" : "")
      + (item.date_order === "dmy" ? " · dates day first" : "")
      + (item.file && item.file.encoding ? ` · read as ${item.file.encoding}, delimiter ${delimiterName(item.file.delimiter)}` : "")
      + (item.file && item.file.format && item.file.format !== "csv" ? ` · read as an .${item.file.format} workbook` : "")
      + (item.sheet ? ` · sheet "${item.sheet}"` : "");
    clear(status).append(statusBadge(item));
    if (look.active) status.append(progress(item));
    // Rebuild the rest only when the state changes, so forms and focus survive polling.
    const state = `${item.status}:${item.finished_at}:${item.applied_by}:${item.reverted_by}:${item.checked_again_by}`;
    if (state === shownState) return;
    shownState = state;
    clear(details);
    clear(errors);
    if (item.result) {
      details.append(result(item.result, item.validate_only), reconciliation(item.result, item.validate_only));
    }
    if (item.error) details.append(h("p", { class: "summary", role: "status" }, item.error.summary));
    if (item.warnings.length) details.append(warnings(item.warnings));
    const ties = relations(app, item);
    if (ties) details.append(ties);
    if (isPlan(item)) details.append(planSection(app, item));
    if (isRevertible(item) && app.role === "admin") details.append(revertControl(app, item));
    // A draft takes its first file; a failed import, which has one, a corrected one.
    if (look.attachable && !item.revert_of) details.append(uploader(item.file ? "Upload corrected file" : "File"));
    if (item.error && item.error.error_count) {
      errors.append(errorGroups(app.slug, id));
      const list = errorList(app.slug, id, item.revert_of ? { title: "Conflicts" } : {});
      errors.append(hasFixableRows(item) && app.role === "admin" ? fixRows(app, item, list, { onSubmitted: followRerun }) : list);
    }
    errors.append(downloads(app, item) || "");
    if (look.cancellable && app.role === "admin") {
      details.append(h("button", { type: "button", async onClick() {
        problem.textContent = "";
        try {
          await api(urls.importCancel(app.slug, id), { method: "POST" });
        } catch (error) {
          problem.textContent = error.message;
          return;
        }
        announceImportsChanged(app.slug);
        restart();
      } }, "Cancel import"));
    }
  }

  async function load() {
    let item;
    try {
      item = await api(urls.import(app.slug, id));
    } catch (error) {
      problem.textContent = error.message;
      return false;
    }
    problem.textContent = "";
    render(item);
    return statusOf(item.status).active;
  }
  // Corrections queued the import again: follow its new run.
  function followRerun() {
    announceImportsChanged(app.slug);
    shownState = "";
    restart();
  }
  // Live from the import's events; by polling when the stream cannot be had.
  const start = () => follow({
    events: urls.importEvents(app.slug, id),
    load,
    onItem: render,
    finished: (item) => statusOf(item.status).finished,
    // Another tab applied this plan, reverted this import, or gave it a file.
    changedElsewhere: (callback) => onImportsChanged(app.slug, callback),
  });
  let stop = start();
  function restart() {
    stop();
    stop = start();
  }
  const node = h("div", {},
    h("p", {}, h("a", { href: pages.imports(app.slug) }, "← All imports")),
    title, meta, status, problem, details, errors);
  return { node, dispose: () => stop() };
}
