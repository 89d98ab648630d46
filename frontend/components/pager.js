import { h } from "../lib/dom.js";

// "Previous page" and "Next page" over a cursor-paged list. The cursor of each page seen is kept
// to go back; Next waits for the answer that tells the next page's cursor. `load` fetches the
// page at cursor(), and hands the answer's next_cursor to shown().
export function pager(load, { numbered = false } = {}) {
  const cursors = [null];
  let page = 0;
  const previous = h("button", { type: "button", disabled: true }, "Previous page");
  const next = h("button", { type: "button", disabled: true }, "Next page");
  const number = numbered ? h("p", { class: "muted", "aria-live": "polite" }) : null;

  function sync() {
    previous.disabled = page === 0;
    next.disabled = !cursors[page + 1];
  }
  function turn(by) {
    page += by;
    sync();
    load();
  }
  previous.addEventListener("click", () => turn(-1));
  next.addEventListener("click", () => turn(1));

  return {
    node: h("div", { class: "pager" }, previous, number, next),
    cursor: () => cursors[page],
    shown(nextCursor) {
      cursors.length = page + 1;
      cursors.push(nextCursor || null);
      sync();
      if (number) number.textContent = `Page ${page + 1}`;
    },
    // Back to the first page (the list's filters changed); the caller loads it.
    reset() {
      page = 0;
      cursors.length = 1;
      sync();
    },
  };
}
