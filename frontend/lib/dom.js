// Building DOM without HTML strings: every value becomes a text node or a property, so nothing
// the API returns can ever be read as markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && !key.startsWith("aria") && key !== "list" && key !== "role") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let ids = 0;
export function uid(prefix = "id") {
  ids += 1;
  return `${prefix}-${ids}`;
}

// A labelled form control: the label's `for` ties it to the control for screen readers and tests.
export function field(label, control, ...extra) {
  control.id = control.id || uid("field");
  const error = h("p", { class: "field-error", id: `${control.id}-error`, role: "alert" });
  control.setAttribute("aria-describedby", error.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, ...extra, error);
}

export function setFieldError(control, message) {
  const error = document.getElementById(`${control.id}-error`);
  if (error) error.textContent = message || "";
  control.toggleAttribute("aria-invalid", Boolean(message));
}

export function formatDateTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatNumber(n) {
  return n === null || n === undefined ? "" : Number(n).toLocaleString();
}
