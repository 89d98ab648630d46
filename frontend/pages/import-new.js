import { api, urls } from "../lib/api.js";
import { loadEncodings, loadImportTypes } from "../lib/catalog.js";
import { field, h, setFieldError, uid } from "../lib/dom.js";
import { announceImportsChanged } from "../lib/imports-channel.js";
import { go, pages } from "../lib/router.js";
import { columnMapping } from "../components/column-mapping.js";
import { filePicker } from "../components/file-picker.js";

export function importNewPage({ app }) {
  const name = h("input", { type: "text", maxLength: 200, required: true, autocomplete: "off" });
  const file = filePicker("File");
  const type = h("select", { required: true }, h("option", { value: "" }, "Choose a type"));
  const sample = h("p", { class: "sample", "aria-live": "polite" });
  const validateOnly = h("input", { type: "checkbox", id: uid("check") });
  const skip = h("input", { type: "checkbox", id: uid("check") });
  const dateOrder = h("select", {},
    h("option", { value: "mdy" }, "Month first (mm/dd/yyyy)"),
    h("option", { value: "dmy" }, "Day first (dd/mm/yyyy)"));
  const encoding = h("select", {}, h("option", { value: "" }, "Decide from the file"));
  const sheet = h("input", { type: "text", maxLength: 255, autocomplete: "off" });
  loadEncodings().then((list) => {
    for (const e of list) encoding.append(h("option", { value: e.name }, e.label));
  });
  const message = h("p", { class: "form-message", role: "alert" });
  const save = h("button", { type: "submit", class: "primary" }, "SAVE");
  // The file's columns mapped to the type's fields, when its header has one the type lacks.
  const mapping = columnMapping(app);
  const typesByKey = new Map();
  const remap = () => mapping.update({
    file: file.input.files[0], type: typesByKey.get(type.value), encoding: encoding.value, sheet: sheet.value,
  });
  for (const control of [file.input, type, encoding, sheet]) control.addEventListener("change", remap);

  loadImportTypes().then((types) => {
    for (const t of types) {
      typesByKey.set(t.key, t);
      type.append(h("option", { value: t.key, dataset: { sample: t.sample_url, sampleXlsx: t.sample_xlsx_url } }, t.label));
    }
  });
  type.addEventListener("change", () => {
    sample.textContent = "";
    const option = type.selectedOptions[0];
    if (option && option.dataset.sample) {
      sample.append(h("a", { href: option.dataset.sample, download: "" }, "Download Sample"));
    }
    if (option && option.dataset.sampleXlsx) {
      sample.append(" ", h("a", { href: option.dataset.sampleXlsx, download: "" }, "Download Sample (.xlsx)"));
    }
  });

  async function submit(event) {
    event.preventDefault();
    for (const control of [name, file.input, type]) setFieldError(control, "");
    message.textContent = "";
    if (!name.value.trim()) return setFieldError(name, "Give the import a name.");
    if (!type.value) return setFieldError(type, "Choose the type of import.");
    const stepWasHidden = mapping.node.hidden;
    await mapping.ready();
    // A mapping step that appears only now (a sheet named just before SAVE) is seen first.
    if (stepWasHidden && !mapping.node.hidden) return mapping.focus();
    if (!mapping.check()) return;
    const form = new FormData();
    form.append("name", name.value.trim());
    form.append("type", type.value);
    form.append("validate_only", validateOnly.checked ? "true" : "false");
    form.append("on_error", skip.checked ? "skip" : "fail");
    form.append("date_order", dateOrder.value);
    if (encoding.value) form.append("encoding", encoding.value);
    if (sheet.value.trim()) form.append("sheet", sheet.value);
    const columns = mapping.columns();
    if (columns) form.append("columns", JSON.stringify(columns));
    if (file.input.files.length) form.append("file", file.input.files[0]);
    save.disabled = true;
    try {
      const created = await api(urls.imports(app.slug), { method: "POST", form });
      announceImportsChanged(app.slug);
      go(pages.import(app.slug, created.id));
    } catch (error) {
      const located = [["name", name], ["type", type], ["file", file.input], ["date_order", dateOrder], ["encoding", encoding], ["sheet", sheet], ["columns", mapping.node]]
        .filter(([key, control]) => {
          const text = error.fieldMessage(key);
          if (text) setFieldError(control, key === "name" && error.code === "name_taken" ? error.message : text);
          return text;
        });
      if (!located.length) message.textContent = error.message;
    } finally {
      save.disabled = false;
    }
  }

  const node = h("form", { class: "card", onSubmit: submit },
    h("h1", {}, "Add Imports"),
    h("p", { class: "muted" }, "Save without a file to keep a draft and add the file later."),
    field("Name", name),
    file.node,
    field("Type", type, sample),
    mapping.node,
    h("div", { class: "check" }, validateOnly,
      h("label", { for: validateOnly.id }, "Validate only"),
      h("span", { class: "muted small" }, " — check every row, change nothing")),
    h("div", { class: "check" }, skip,
      h("label", { for: skip.id }, "Apply the good rows and skip the bad ones")),
    h("details", { class: "more-options" },
      h("summary", {}, "More options"),
      field("Date order", dateOrder,
        h("p", { class: "muted small" },
          "How dates like 02/01/2024 are read. Files from the UK and most of Europe write the day first. ",
          "ISO dates (2024-01-02), dotted dates and month names read the same either way.")),
      field("Encoding", encoding,
        h("p", { class: "muted small" },
          "For a CSV file that is not UTF-8, the service tells the older programs' encodings apart ",
          "by their accented letters, and says which it chose. Choose one here only if it cannot tell.")),
      field("Sheet", sheet,
        h("p", { class: "muted small" },
          "For a workbook (.xlsx, .xls, .ods): the name of the sheet to read. ",
          "Leave it empty to read the first visible sheet."))),
    message,
    h("div", { class: "actions" }, save));
  queueMicrotask(() => name.focus());
  return { node };
}
