import { api, urls } from "../lib/api.js";
import { clear, formatNumber, h, uid } from "../lib/dom.js";
import { tickets } from "../lib/newest.js";
import { counted } from "../lib/plural.js";
import { pager } from "./pager.js";

// A failed import's failed rows in an editable grid, keyboard-first like a spreadsheet: arrows
// (and Home/End) move, Enter or F2 edits and Enter commits, Escape cancels, Tab moves right;
// typing on a cell starts editing it. The bad cells carry their message. "Submit corrections"
// sends the edited cells (POST .../corrections) and hands the queued import to `onSubmitted`.
export function fixGrid(app, item, { onSubmitted }) {
  const edits = new Map(); // line -> Map(column index -> new value), across pages
  let data = { header: [], columns: [], items: [] };
  let at = { row: 0, col: 0 }; // the cell holding the grid's one tab stop
  let editing = null; // { td, input, row, col }

  const help = h("p", { class: "muted small", id: uid("grid-help") },
    "Arrows move; Enter edits a cell and Enter again keeps the change; Escape cancels; Tab moves right. "
    + "The import runs again with your corrections.");
  const grid = h("table", { role: "grid", class: "fix-grid", "aria-label": "Failed rows", "aria-describedby": help.id });
  const summary = h("p", { class: "muted", "aria-live": "polite" });
  const message = h("p", { class: "form-message", role: "alert" });
  const submit = h("button", { type: "button", class: "primary", disabled: true, onClick: send }, "Submit corrections");
  const paging = pager(load);
  const ticket = tickets();

  // Corrections name a column as the type does, or by its header when the import ignores it.
  const columnName = (col) => data.columns[col] || data.header[col];
  const original = (row, col) => data.items[row].cells[col] ?? "";
  const valueOf = (row, col) => {
    const changed = edits.get(data.items[row].line);
    return changed && changed.has(col) ? changed.get(col) : original(row, col);
  };
  const cellAt = (row, col) => grid.querySelector(`td[data-row="${row}"][data-col="${col}"]`);
  const label = (row, col) => `${data.header[col] || `column ${col + 1}`} on line ${data.items[row].line}`;

  function countEdits() {
    let n = 0;
    for (const cells of edits.values()) n += cells.size;
    summary.textContent = n ? `${counted(n, "cell")} edited.` : "No cell edited yet.";
    submit.disabled = n === 0;
  }

  // A cell's text, its message when the file's value is bad, and its state for the eye and ear.
  function paint(td) {
    const row = Number(td.dataset.row);
    const col = Number(td.dataset.col);
    const value = valueOf(row, col);
    const problems = data.items[row].errors.filter((e) => e.column && e.column === data.columns[col]);
    const edited = value !== original(row, col);
    clear(td).append(h("span", { class: "cell-value" }, value));
    td.setAttribute("aria-label", `${label(row, col)}: ${value === "" ? "empty" : value}`);
    td.classList.toggle("edited", edited);
    td.classList.toggle("bad", problems.length > 0);
    td.toggleAttribute("aria-invalid", problems.length > 0 && !edited);
    if (problems.length) {
      const note = h("span", { class: "cell-error", id: uid("cell-error") },
        edited ? `Was: ${problems.map((e) => e.message).join(" ")}` : problems.map((e) => e.message).join(" "));
      td.append(note);
      td.setAttribute("aria-describedby", note.id);
    } else {
      td.removeAttribute("aria-describedby");
    }
  }

  function render() {
    const width = data.header.length;
    // Errors that name no column of the header (or none at all) are shown with the row's line.
    const rowNote = (row) => row.errors.filter((e) => !e.column || !data.columns.includes(e.column))
      .map((e) => e.message).join(" ");
    clear(grid).append(
      h("thead", {}, h("tr", { role: "row" },
        h("th", { role: "columnheader", scope: "col" }, "Line"),
        data.header.map((text, col) => h("th", { role: "columnheader", scope: "col" },
          text || `column ${col + 1}`)))),
      h("tbody", {}, data.items.map((row, r) => h("tr", { role: "row" },
        h("th", { role: "rowheader", scope: "row", class: "num" }, formatNumber(row.line),
          rowNote(row) ? h("span", { class: "cell-error" }, rowNote(row)) : null),
        Array.from({ length: width }, (_, col) =>
          h("td", { role: "gridcell", tabindex: "-1", dataset: { row: r, col } }))))));
    grid.querySelectorAll("td[role=gridcell]").forEach(paint);
    at = { row: Math.min(at.row, data.items.length - 1), col: Math.min(at.col, width - 1) };
    const start = data.items.length && width ? cellAt(at.row, at.col) : null;
    if (start) start.tabIndex = 0;
  }

  function move(row, col, { focus = true } = {}) {
    if (!data.items.length) return;
    const rows = data.items.length;
    const cols = data.header.length;
    row = Math.max(0, Math.min(rows - 1, row));
    col = Math.max(0, Math.min(cols - 1, col));
    const before = cellAt(at.row, at.col);
    if (before) before.tabIndex = -1;
    at = { row, col };
    const td = cellAt(row, col);
    td.tabIndex = 0;
    if (focus) td.focus();
  }

  function startEdit(td, typed) {
    const row = Number(td.dataset.row);
    const col = Number(td.dataset.col);
    const input = h("input", { type: "text", class: "cell-input", "aria-label": label(row, col),
                               value: typed ?? valueOf(row, col), autocomplete: "off" });
    editing = { td, input, row, col };
    submit.disabled = false; // a click on Submit commits the cell being edited first
    clear(td).append(input);
    input.focus();
    if (typed === undefined) input.select();
    input.addEventListener("keydown", onEditKey);
    input.addEventListener("blur", () => { if (editing && editing.input === input) finishEdit(true, { focus: false }); });
  }

  function finishEdit(keep, { focus = true } = {}) {
    const { td, input, row, col } = editing;
    editing = null;
    if (keep) {
      const line = data.items[row].line;
      const cells = edits.get(line) || new Map();
      if (input.value === original(row, col)) cells.delete(col);
      else cells.set(col, input.value);
      if (cells.size) edits.set(line, cells);
      else edits.delete(line);
      countEdits();
    }
    paint(td);
    if (focus) td.focus();
  }

  function onEditKey(event) {
    event.stopPropagation(); // the grid's own keys do not apply inside the editor
    if (event.key === "Enter") {
      event.preventDefault();
      finishEdit(true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      finishEdit(false);
    } else if (event.key === "Tab") {
      const { row, col } = editing;
      finishEdit(true);
      const next = event.shiftKey ? col - 1 : col + 1;
      if (next >= 0 && next < data.header.length) {
        event.preventDefault();
        move(row, next);
      }
    }
  }

  grid.addEventListener("keydown", (event) => {
    const td = event.target.closest && event.target.closest("td[role=gridcell]");
    if (!td || editing) return;
    const { row, col } = at;
    const last = data.header.length - 1;
    const keys = {
      ArrowLeft: () => move(row, col - 1),
      ArrowRight: () => move(row, col + 1),
      ArrowUp: () => move(row - 1, col),
      ArrowDown: () => move(row + 1, col),
      Home: () => move(event.ctrlKey ? 0 : row, 0),
      End: () => move(event.ctrlKey ? data.items.length - 1 : row, last),
      Enter: () => startEdit(td),
      F2: () => startEdit(td),
      Delete: () => startEdit(td, ""),
      Backspace: () => startEdit(td, ""),
    };
    if (event.key === "Tab") {
      // Tab moves right (Shift+Tab left) inside the row; from its end it leaves the grid.
      const next = event.shiftKey ? col - 1 : col + 1;
      if (next < 0 || next > last) return;
      event.preventDefault();
      move(row, next);
    } else if (keys[event.key]) {
      event.preventDefault();
      keys[event.key]();
    } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      startEdit(td, event.key); // typing replaces the cell, as in a spreadsheet
    }
  });
  grid.addEventListener("click", (event) => {
    const td = event.target.closest && event.target.closest("td[role=gridcell]");
    if (td && !editing) move(Number(td.dataset.row), Number(td.dataset.col));
  });
  grid.addEventListener("dblclick", (event) => {
    const td = event.target.closest && event.target.closest("td[role=gridcell]");
    if (td && !editing) startEdit(td);
  });

  async function load() {
    const isNewest = ticket();
    message.textContent = "";
    try {
      const page = await api(urls.importFailedRows(app.slug, item.id, { limit: 100, cursor: paging.cursor() }));
      if (!isNewest()) return;
      data = page;
      at = { row: 0, col: 0 };
      render();
      paging.shown(page.next_cursor);
    } catch (error) {
      message.textContent = error.message;
    }
  }

  async function send() {
    if (editing) finishEdit(true, { focus: false });
    if (!edits.size) {
      message.textContent = "Edit a cell first.";
      return;
    }
    const body = {};
    for (const [line, cells] of edits) {
      body[line] = Object.fromEntries([...cells].map(([col, value]) => [columnName(col), value]));
    }
    submit.disabled = true;
    message.textContent = "";
    try {
      const queued = await api(urls.importCorrections(app.slug, item.id), { method: "POST", json: body });
      onSubmitted(queued);
    } catch (error) {
      message.textContent = [error.message, ...error.errors.map((e) => e.message)].join(" ");
      submit.disabled = false;
    }
  }

  countEdits();
  load();
  return h("div", { class: "fix-rows" }, help,
    h("div", { class: "grid-scroll" }, grid), paging.node, summary, message,
    h("div", { class: "grid-actions" }, submit));
}
