import { api, urls } from "../lib/api.js";
import { h } from "../lib/dom.js";
import { pages } from "../lib/router.js";
import { caseCounts, counts } from "../components/counts.js";

export function appsPage() {
  const list = h("div", { class: "app-list", "aria-busy": "true" });
  const node = h("section", {}, h("h1", {}, "Apps"), list);
  api(urls.apps()).then((page) => {
    list.removeAttribute("aria-busy");
    if (!page.items.length) {
      list.append(h("p", {}, "You have no apps yet. An owner can create one with `caseimport create-app`."));
      return;
    }
    for (const app of page.items) {
      list.append(
        h(
          "article",
          { class: "card app-card" },
          h("h2", {}, app.name),
          h("p", { class: "muted" }, app.slug, " · ", app.role),
          counts(caseCounts(app.cases)),
          h(
            "a",
            { class: "button primary", href: pages.cases(app.slug), "aria-label": `ADMIN ${app.name}` },
            "ADMIN",
          ),
        ),
      );
    }
  });
  return { node };
}
