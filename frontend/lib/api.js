// The one way the SPA talks to the API. Problem documents become ApiError; a 401 anywhere
// means the session ended, and the app goes back to sign-in.

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `The server answered ${status}.`);
    this.status = status;
    this.code = problem && problem.code;
    this.errors = (problem && problem.errors) || [];
  }

  // The message for one form field (loc ["body", name]), if the server located one there.
  fieldMessage(name) {
    const hit = this.errors.find((e) => Array.isArray(e.loc) && e.loc[e.loc.length - 1] === name);
    return hit ? hit.message : null;
  }
}

let onUnauthenticated = () => {};
export function whenSignedOut(callback) {
  onUnauthenticated = callback;
}

export async function api(path, { method = "GET", json, form } = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (json !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(json);
  } else if (form !== undefined) {
    options.body = form; // the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, { detail: "The server cannot be reached; check your connection." });
  }
  if (response.status === 204) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && path !== urls.login()) onUnauthenticated();
    throw new ApiError(response.status, body);
  }
  return body;
}

function query(params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

const enc = encodeURIComponent;
const app = (slug) => `/api/apps/${enc(slug)}`;
const oneImport = (slug, id) => `${app(slug)}/imports/${enc(id)}`;

// Every API address the SPA asks for; each value from a page is encoded here.
export const urls = {
  me: () => "/api/auth/me",
  login: () => "/api/auth/login",
  logout: () => "/api/auth/logout",
  apps: () => "/api/apps",
  importTypes: () => "/api/import-types",
  encodings: () => "/api/encodings",
  importStatuses: () => "/api/import-statuses",
  imports: (slug, params) => `${app(slug)}/imports${query(params)}`,
  import: oneImport,
  importFile: (slug, id) => `${oneImport(slug, id)}/file`,
  importCancel: (slug, id) => `${oneImport(slug, id)}/cancel`,
  importEvents: (slug, id) => `${oneImport(slug, id)}/events`,
  importErrors: (slug, id, params) => `${oneImport(slug, id)}/errors${query(params)}`,
  importErrorsCsv: (slug, id) => `${oneImport(slug, id)}/errors.csv`,
  importFailedRowsCsv: (slug, id) => `${oneImport(slug, id)}/failed-rows.csv`,
  importFailedRows: (slug, id, params) => `${oneImport(slug, id)}/failed-rows${query(params)}`,
  importCorrections: (slug, id) => `${oneImport(slug, id)}/corrections`,
  importChanges: (slug, id, params) => `${oneImport(slug, id)}/changes${query(params)}`,
  importApply: (slug, id) => `${oneImport(slug, id)}/apply`,
  importCheckAgain: (slug, id) => `${oneImport(slug, id)}/check-again`,
  importRevert: (slug, id) => `${oneImport(slug, id)}/revert`,
  importErrorSummary: (slug, id) => `${oneImport(slug, id)}/errors/summary`,
  importMapping: (slug, key) => `${app(slug)}/import-types/${enc(key)}/mapping`,
  cases: (slug, params) => `${app(slug)}/cases${query(params)}`,
  case: (slug, tag) => `${app(slug)}/cases/${enc(tag)}`,
  caseHistory: (slug, tag) => `${app(slug)}/cases/${enc(tag)}/history`,
  audit: (slug, params) => `${app(slug)}/audit${query(params)}`,
  webhooks: (slug) => `${app(slug)}/webhooks`,
  webhook: (slug, id) => `${app(slug)}/webhooks/${enc(id)}`,
  webhookTest: (slug, id) => `${app(slug)}/webhooks/${enc(id)}/test`,
  webhookDeliveries: (slug, id, params) => `${app(slug)}/webhooks/${enc(id)}/deliveries${query(params)}`,
  caseStats: (slug) => `${app(slug)}/cases/stats`,
  tokens: (slug) => `${app(slug)}/tokens`,
  token: (slug, id) => `${app(slug)}/tokens/${enc(id)}`,
};

// One request shared by every caller; a failed one is asked again by the next caller.
export function once(request) {
  let promise = null;
  return () => {
    if (!promise) promise = request().catch((error) => { promise = null; throw error; });
    return promise;
  };
}
