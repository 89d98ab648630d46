import { field, h } from "../lib/dom.js";

// A file input behind the plus (+) button of the help article; the real input stays reachable
// by keyboard and carries the label. `action` (a button) sits in the picker's own row, level
// with the plus, not under the field.
export function filePicker(label, { action = null } = {}) {
  // CSV text or a workbook: the service tells them apart by content, not by name.
  const input = h("input", { type: "file", accept: ".csv,.xlsx,.xlsm,.xls,.ods", class: "file-input" });
  const chosen = h("span", { class: "muted chosen", "aria-live": "polite" }, "No file chosen");
  input.addEventListener("change", () => {
    chosen.textContent = input.files.length ? input.files[0].name : "No file chosen";
  });
  const plus = h("button", { type: "button", class: "plus", "aria-label": "Choose file",
                             onClick: () => input.click() }, "+");
  return { input, node: field(label, input, h("div", { class: "file-row" }, plus, chosen, action)) };
}
