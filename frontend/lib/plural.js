import { formatNumber } from "./dom.js";

// The word for a count: `one` for exactly one, else `many` ("case", "cases"; "its", "their").
export const plural = (n, one, many = `${one}s`) => (n === 1 ? one : many);

// A count and its noun, the number formatted: "1 case", "1,204 rows", "2 rows have".
export const counted = (n, one, many = `${one}s`) => `${formatNumber(n)} ${plural(n, one, many)}`;
