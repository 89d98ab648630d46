import { clear, formatNumber, h } from "../lib/dom.js";

// Labelled figures: each label a <dt>, its number a <dd>, in a <dl class="counts">.
export function counts(entries, { big = false, live = false } = {}) {
  const list = h("dl", { class: big ? "counts big" : "counts", "aria-live": live ? "polite" : null });
  return showCounts(list, entries);
}

export function showCounts(list, entries) {
  clear(list).append(...entries.map(([label, value]) =>
    h("div", {}, h("dt", {}, label), h("dd", {}, formatNumber(value)))));
  return list;
}

// An app's cases, as the Apps page and the Cases tab both show them.
export const caseCounts = (c) => [["Active", c.active], ["Closed", c.closed], ["Total", c.total]];
