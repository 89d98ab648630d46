// A hash router: "#/apps/field-ops/imports/123" -> the first route whose pattern matches.

export function matchRoute(routes, hash) {
  const path = (hash || "").replace(/^#/, "") || "/";
  for (const route of routes) {
    const names = [];
    const pattern = route.path.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return "([^/]+)";
    });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (match) {
      const params = {};
      names.forEach((name, i) => {
        params[name] = decodeURIComponent(match[i + 1]);
      });
      return { route, params };
    }
  }
  return null;
}

const enc = encodeURIComponent;
const app = (slug) => `#/apps/${enc(slug)}`;

// The address of every page, as links and go() take it; matchRoute decodes what is encoded here.
export const pages = {
  signIn: () => "#/signin",
  apps: () => "#/apps",
  cases: (slug) => `${app(slug)}/cases`,
  case: (slug, tag) => `${app(slug)}/cases/${enc(tag)}`,
  audit: (slug) => `${app(slug)}/audit`,
  webhooks: (slug) => `${app(slug)}/webhooks`,
  imports: (slug) => `${app(slug)}/imports`,
  newImport: (slug) => `${app(slug)}/imports/new`,
  import: (slug, id) => `${app(slug)}/imports/${enc(id)}`,
  tokens: (slug) => `${app(slug)}/tokens`,
};

export function go(hash) {
  if (location.hash !== hash) location.hash = hash;
}
