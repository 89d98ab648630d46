import { h } from "../lib/dom.js";

// The admin panel of one app: tabs Cases and Integration; Integration has the submenu
// IMPORTS, and API TOKENS for admins.
export function panel({ app, tab, sub }, content) {
  const base = `#/apps/${encodeURIComponent(app.slug)}`;
  const tabLink = (name, href, selected) =>
    h("a", { role: "tab", href, "aria-selected": selected ? "true" : "false",
             class: selected ? "tab selected" : "tab" }, name);
  const tabs = h(
    "nav",
    { role: "tablist", "aria-label": "Admin panel" },
    tabLink("Cases", `${base}/cases`, tab === "cases"),
    tabLink("Integration", `${base}/imports`, tab === "integration"),
  );
  const submenu =
    tab === "integration"
      ? h(
          "nav",
          { class: "submenu", "aria-label": "Integration" },
          h("a", { href: `${base}/imports`, "aria-current": sub === "imports" ? "page" : null }, "IMPORTS"),
          app.role === "admin"
            ? h("a", { href: `${base}/tokens`, "aria-current": sub === "tokens" ? "page" : null }, "API TOKENS")
            : null,
        )
      : null;
  return h(
    "section",
    { class: "panel" },
    h("p", { class: "crumbs" }, h("a", { href: "#/apps" }, "Apps"), " / ", app.name),
    tabs,
    submenu,
    h("div", { role: "tabpanel", class: "panel-body" }, content),
  );
}
