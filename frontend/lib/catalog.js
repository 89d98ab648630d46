// What the API says about imports in general, fetched once.
import { api, once, urls } from "./api.js";

export const loadImportTypes = once(() => api(urls.importTypes()));
