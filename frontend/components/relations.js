import { api, urls } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { pages } from "../lib/router.js";

// A link to another import, by its name once known (the import object names it by id only).
function importLink(slug, id) {
  const link = h("a", { href: pages.import(slug, id) }, "another import");
  api(urls.import(slug, id)).then((other) => { link.textContent = other.name; }).catch(() => {});
  return link;
}

// How this import is tied to others: the plan it applies and the import that applied it; the
// import it reverts and the revert that took it back; the check whose file it checks again and
// the latest check again of its own.
export function relations(app, item) {
  const lines = [
    [item.plan_id, "Applies the plan "],
    [item.applied_by, "Applied by "],
    [item.revert_of, "Reverts "],
    [item.reverted_by, "Reverted by "],
    [item.checks_again, "Checks again "],
    [item.checked_again_by, "Checked again by "],
  ].filter(([id]) => id);
  if (!lines.length) return null;
  return h("div", { class: "relations" },
    lines.map(([id, words]) => h("p", {}, words, importLink(app.slug, id))));
}
