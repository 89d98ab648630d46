import { h } from "../lib/dom.js";
import { pages } from "../lib/router.js";

// The admin panel of one app: tabs Cases and Integration; Integration has the submenu
// IMPORTS, and API TOKENS, WEBHOOKS and AUDIT LOG for admins.
export function panel({ app, tab, sub }, content) {
  const tabLink = (name, href, selected) =>
    h("a", { role: "tab", href, "aria-selected": selected ? "true" : "false",
             class: selected ? "tab selected" : "tab" }, name);
  const tabs = h(
    "nav",
    { role: "tablist", "aria-label": "Admin panel" },
    tabLink("Cases", pages.cases(app.slug), tab === "cases"),
    tabLink("Integration", pages.imports(app.slug), tab === "integration"),
  );
  const submenu =
    tab === "integration"
      ? h(
          "nav",
          { class: "submenu", "aria-label": "Integration" },
          h("a", { href: pages.imports(app.slug), "aria-current": sub === "imports" ? "page" : null }, "IMPORTS"),
          app.role === "admin"
            ? h("a", { href: pages.tokens(app.slug), "aria-current": sub === "tokens" ? "page" : null }, "API TOKENS")
            : null,
          app.role === "admin"
            ? h("a", { href: pages.webhooks(app.slug), "aria-current": sub === "webhooks" ? "page" : null }, "WEBHOOKS")
            : null,
          app.role === "admin"
            ? h("a", { href: pages.audit(app.slug), "aria-current": sub === "audit" ? "page" : null }, "AUDIT LOG")
            : null,
        )
      : null;
  return h(
    "section",
    { class: "panel" },
    h("p", { class: "crumbs" }, h("a", { href: pages.apps() }, "Apps"), " / ", app.name),
    tabs,
    submenu,
    h("div", { role: "tabpanel", class: "panel-body" }, content),
  );
}
