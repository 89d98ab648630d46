// What the API says about imports in general: their statuses (words, signs and the groups the
// pages act on) and their types. Each is fetched once; signed-in pages render after both, so no
// page ever shows a key where a label belongs.
import { api, once, urls } from "./api.js";

let statuses = null;
let types = null;

export const loadStatuses = once(() => api(urls.importStatuses()).then((list) => {
  statuses = new Map(list.map((s) => [s.key, s]));
  return list;
}));

export const loadImportTypes = once(() => api(urls.importTypes()).then((list) => {
  types = new Map(list.map((t) => [t.key, t]));
  return list;
}));

// Both catalogs, as signed-in pages need them.
export const loadCatalogs = () => Promise.all([loadStatuses(), loadImportTypes()]);

export const catalogsLoaded = () => statuses !== null && types !== null;

// A status this SPA was never told of shows its own key and belongs to no group.
export function statusOf(key) {
  return (statuses && statuses.get(key)) || {
    key, label: key, symbol: "?", active: false, cancellable: false, attachable: false, finished: false,
  };
}

// The finished status that takes a corrected file: the import failed.
export function hasFailed(item) {
  const status = statusOf(item.status);
  return status.finished && status.attachable;
}

// The type of a revert, which the service makes from another import: it is no type of the
// catalog, since nobody uploads one.
export const REVERT_TYPE = "revert";

// An import type's key as people read it, wherever a type shows (an import, a case's history):
// the catalog's label, or "Revert"; only a type the catalog lost shows its key.
export function typeName(key) {
  if (key === REVERT_TYPE) return "Revert";
  const type = types && types.get(key);
  return type ? type.label : key;
}

export const loadEncodings = once(() => api(urls.encodings()));
