// The admin SPA: one hash route per page, the signed-in user from /api/auth/me, and a return
// to sign-in whenever the API answers 401.
import { api, urls, whenSignedOut } from "./lib/api.js";
import { catalogsLoaded, loadCatalogs } from "./lib/catalog.js";
import { clear, h } from "./lib/dom.js";
import { go, matchRoute, pages } from "./lib/router.js";
import { panel } from "./components/panel.js";
import { appsPage } from "./pages/apps.js";
import { casesPage } from "./pages/cases.js";
import { importNewPage } from "./pages/import-new.js";
import { importViewPage } from "./pages/import-view.js";
import { importsPage } from "./pages/imports.js";
import { signInPage } from "./pages/signin.js";
import { tokensPage } from "./pages/tokens.js";

const main = document.getElementById("main");
const account = document.getElementById("account");
let me = null;
let current = null;
// The page a signed-out user asked for (a shared link, or where the session ended), shown again
// once they have signed in.
let returnTo = null;

const inPanel = (tab, sub, page) => (params, app) => {
  const shown = page({ ...params, app });
  return { node: panel({ app, tab, sub }, shown.node), dispose: shown.dispose };
};

const routes = [
  { path: "/signin", public: true, page: () => signInPage({ onSignedIn }) },
  { path: "/", page: () => (go(pages.apps()), { node: h("div") }) },
  { path: "/apps", page: appsPage, title: "Apps" },
  { path: "/apps/:slug/cases", app: true, page: inPanel("cases", null, casesPage), title: "Cases" },
  { path: "/apps/:slug/imports", app: true, page: inPanel("integration", "imports", importsPage), title: "Imports" },
  { path: "/apps/:slug/imports/new", app: true, admin: true, page: (p, app) => importNewPage({ ...p, app }), title: "Add Imports" },
  { path: "/apps/:slug/imports/:id", app: true, page: inPanel("integration", "imports", importViewPage), title: "Import" },
  { path: "/apps/:slug/tokens", app: true, admin: true, page: inPanel("integration", "tokens", tokensPage), title: "API tokens" },
];

function notFound(message) {
  return { node: h("section", { class: "card narrow" }, h("h1", {}, "Not found"), h("p", {}, message),
    h("a", { href: pages.apps() }, "Back to your apps")) };
}

function unavailable(error) {
  return { node: h("section", { class: "card narrow" }, h("h1", {}, "Not available"),
    h("p", { role: "alert" }, error.message),
    h("button", { type: "button", onClick: () => render({ again: true }) }, "Try again")) };
}

function renderAccount() {
  clear(account);
  if (!me) return;
  account.append(
    h("span", { class: "muted email", title: me.email }, me.email),
    h("button", { type: "button", async onClick() {
      try { await api(urls.logout(), { method: "POST" }); } catch { /* already gone */ }
      signedOut();
    } }, "Sign out"));
}

// The address and the user the page shown was drawn for: drawing it again for both would only
// wipe what the user typed (a sign-out both sets the address and draws, and the address's
// change draws again).
let drawn = null;

function show(view, title) {
  if (current && current.dispose) current.dispose();
  current = view;
  drawn = { hash: location.hash, me };
  clear(main).append(view.node);
  document.title = title ? `${title} · Case import` : "Case import";
  // Move focus to the page for keyboard and screen-reader users, unless a control took it.
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
}

// Each render supersedes the ones before it, including one still waiting for the statuses.
let renders = 0;

function render({ again = false } = {}) {
  if (!again && drawn && drawn.hash === location.hash && drawn.me === me) return;
  const turn = ++renders;
  const found = matchRoute(routes, location.hash);
  if (!found) return show(notFound("There is no page at this address."));
  const { route, params } = found;
  if (!route.public && !me) {
    returnTo = location.hash;
    return go(pages.signIn());
  }
  if (route.public && me) return go(pages.apps());
  if (!route.public && !catalogsLoaded()) {
    // Signed-in pages word statuses and types as the API does; a 401 here has already signed out.
    loadCatalogs().then(() => turn === renders && render({ again: true }),
      (error) => turn === renders && me && show(unavailable(error)));
    return;
  }
  let app = null;
  if (route.app) {
    app = me.apps.find((a) => a.slug === params.slug);
    if (!app) return show(notFound("This app does not exist, or you have no access to it."));
    if (route.admin && app.role !== "admin") {
      return show(notFound("Only admins of this app can open this page."));
    }
  }
  show(route.page(params, app), route.title);
}

function onSignedIn(user) {
  me = user;
  renderAccount();
  const target = returnTo;
  returnTo = null;
  if (target && matchRoute(routes, target) && !target.startsWith(pages.signIn())) {
    location.hash = target;
  } else {
    go(pages.apps());
  }
}

function signedOut({ remember = false } = {}) {
  returnTo = remember ? location.hash : null;
  me = null;
  renderAccount();
  if (current && current.dispose) current.dispose();
  current = null;
  drawn = null;
  // A change of address draws the sign-in page; only on it already is it drawn here.
  if (location.hash === pages.signIn()) render();
  else go(pages.signIn());
}

whenSignedOut(() => {
  if (me) signedOut({ remember: true });
});
window.addEventListener("hashchange", () => render());

api(urls.me())
  .then((user) => { me = user; })
  .catch(() => { me = null; })
  .finally(() => { renderAccount(); render(); });
