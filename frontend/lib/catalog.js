// What the API says about imports in general: their statuses (words, signs and the groups the
// pages act on) and their types. Each is fetched once; signed-in pages render after the statuses.
import { api, once, urls } from "./api.js";

let statuses = null;

export const loadStatuses = once(() => api(urls.importStatuses()).then((list) => {
  statuses = new Map(list.map((s) => [s.key, s]));
  return list;
}));

export const statusesLoaded = () => statuses !== null;

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

export const loadImportTypes = once(() => api(urls.importTypes()));

export const loadEncodings = once(() => api(urls.encodings()));
