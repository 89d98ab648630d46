import { api, urls } from "../lib/api.js";
import { clear, field, h, setFieldError, uid } from "../lib/dom.js";
import { readHeader } from "../lib/file-header.js";
import { tickets } from "../lib/newest.js";

// Header cells compared as the service compares them (docs/format.md, "Header names").
export const normalizeHeader = (text) =>
  text.replace(/\ufeff/g, "").trim().toLowerCase().replace(/[\s_-]+/g, "_");

// The column failed-rows.csv adds: the service ignores it on upload.
const ERROR_COLUMN = "error";

// The app's last mapping of each type, asked once per page.
function lastMappings(slug) {
  const asked = new Map();
  return (key) => {
    if (!asked.has(key)) {
      asked.set(key, api(urls.importMapping(slug, key)).then((m) => m.columns || {}, () => ({})));
    }
    return asked.get(key);
  };
}

// The mapping step of the Add Imports dialog: when the chosen file's header has a column the
// type does not know, each file column gets a select (a field of the type, or Ignore),
// prefilled from the app's last mapping of the type, then by name. `columns()` is what the
// upload sends (null when the step is not shown).
export function columnMapping(app) {
  const mappingOf = lastMappings(app.slug);
  const ticket = tickets();
  const rows = h("div", { class: "mapping-rows" });
  // Named as field() names a control's error, so that the form's setFieldError finds it.
  const id = uid("mapping");
  const message = h("p", { class: "form-message", role: "alert", id: `${id}-error` });
  const intro = h("p", { class: "muted small" });
  const node = h("fieldset", { class: "column-mapping", id, hidden: true },
    h("legend", {}, "Column mapping"), intro, rows, message);
  let shown = [];
  let type = null;
  let pending = Promise.resolve();

  function hide() {
    shown = [];
    clear(rows);
    message.textContent = "";
    node.hidden = true;
  }

  async function build(file, chosenType, encoding, sheet, isNewest) {
    if (!file || !chosenType) return hide();
    const [header, last] = await Promise.all([readHeader(file, encoding, sheet), mappingOf(chosenType.key)]);
    if (!isNewest()) return;
    if (!header) return hide();
    const spellings = new Map();
    for (const column of chosenType.columns) {
      for (const spelling of [column.name, ...column.aliases]) spellings.set(normalizeHeader(spelling), column.name);
    }
    const names = new Set(chosenType.columns.map((c) => c.name));
    const remembered = new Map(Object.entries(last).map(([text, name]) => [normalizeHeader(text), name]));
    const seen = new Set();
    const cells = [];
    for (const cell of header) {
      const key = normalizeHeader(cell);
      if (!key || key === ERROR_COLUMN || seen.has(key)) continue;
      seen.add(key);
      cells.push({ text: cell.replace(/\ufeff/g, "").trim(), key });
    }
    if (cells.every((c) => spellings.has(c.key))) return hide();
    type = chosenType;
    clear(rows);
    message.textContent = "";
    intro.textContent = `This file has columns that ${chosenType.label} does not know. Choose the field `
      + "each column of the file fills, or Ignore to leave it out.";
    shown = cells.map((cell) => {
      const select = h("select", {}, h("option", { value: "" }, "Ignore"),
        chosenType.columns.map((c) => h("option", { value: c.name }, c.required ? `${c.name} (required)` : c.name)));
      const before = remembered.has(cell.key) ? remembered.get(cell.key) : spellings.get(cell.key);
      select.value = before && names.has(before) ? before : "";
      select.addEventListener("change", () => {
        for (const row of shown) setFieldError(row.select, "");
        message.textContent = "";
      });
      const unknown = spellings.has(cell.key) ? null : h("span", { class: "muted small" }, "Not a column of this type");
      rows.append(field([h("span", { class: "visually-hidden" }, "File column "), cell.text], select, unknown));
      return { ...cell, select };
    });
    node.hidden = false;
  }

  return {
    node,
    // The file, the type (from GET /api/import-types), the encoding or the sheet changed.
    update({ file, type: chosenType, encoding, sheet }) {
      pending = build(file, chosenType, encoding, sheet, ticket());
      return pending;
    },
    // Resolves once the latest file has been read.
    ready: () => pending,
    focus() {
      if (shown.length) shown[0].select.focus();
    },
    // Each field filled once, every required one filled; otherwise says where, and false.
    check() {
      if (!shown.length) return true;
      let first = null;
      const taken = new Map();
      for (const row of shown) {
        setFieldError(row.select, "");
        const name = row.select.value;
        if (!name) continue;
        if (taken.has(name)) {
          setFieldError(row.select, `${name} is already filled by the file column "${taken.get(name)}".`);
          first = first || row.select;
        } else {
          taken.set(name, row.text);
        }
      }
      const missing = type.columns.filter((c) => c.required && !taken.has(c.name)).map((c) => c.name);
      message.textContent = missing.length ? `Choose a file column for ${missing.join(", ")}.` : "";
      first = first || (missing.length ? shown[0].select : null);
      if (first) first.focus();
      return !first;
    },
    columns() {
      if (!shown.length) return null;
      return Object.fromEntries(shown.map((row) => [row.text, row.select.value || null]));
    },
  };
}
