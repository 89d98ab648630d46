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

export function go(path) {
  if (location.hash !== `#${path}`) location.hash = path;
}
