// What the workbook readers share, as the service has it (api/reading/workbooks/sheets.py and
// api/reading/header.py): which sheet is read, which rows are empty, where the header's cells
// end, and how a number or a moment reads as text.

// The characters Python's str.isspace() and str.strip() take for white space.
const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const ONLY_SPACES = new RegExp(`^[${SPACE}]*$`);
const EDGE_SPACES = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "g");

const strip = (text) => text.replace(EDGE_SPACES, "");
const fold = (text) => strip(text).toUpperCase().toLowerCase();

// The sheet named `wanted` (exactly, else ignoring letter case and the spaces around it), or
// the first visible worksheet when none is named; null when there is no such sheet.
// `sheets`: [{ name, visible, worksheet }] in the workbook's order.
export function pickSheet(sheets, wanted) {
  if (!wanted || !strip(wanted)) return sheets.find((s) => s.visible && s.worksheet) ?? null;
  return sheets.find((s) => s.name === wanted) ?? sheets.find((s) => fold(s.name) === fold(wanted)) ?? null;
}

// A row of nothing, or of white space only, is skipped: the first other row is the header.
export const isEmptyRow = (cells) => ONLY_SPACES.test(cells.join(""));

// The header's cells without the blank ones at its end, which the service ignores.
export function headerCells(cells) {
  let width = cells.length;
  while (width && !strip(cells[width - 1].replace(/\ufeff/g, ""))) width -= 1;
  return cells.slice(0, width);
}

// A cell's number as Python's float() reads it; throws where the service's reader fails.
export function parseNumber(text) {
  const trimmed = strip(text);
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(trimmed);
  if (special) return special[2].toLowerCase() === "nan" ? NaN : (special[1] === "-" ? -Infinity : Infinity);
  const number = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
  if (Number.isNaN(number)) throw new Error(`not a number: ${text}`);
  return number;
}

// As Python's int() reads an attribute; throws where the service's reader fails.
export function parseInteger(text) {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw new Error(`not an integer: ${text}`);
  return Number(text);
}

const trimZeros = (digits) => (digits.includes(".") ? digits.replace(/\.?0+$/, "") : digits);

// As a spreadsheet shows a number in a General cell (Python's format(n, ".15g")): 15
// significant digits, no trailing ".0", an exponent from 1e15 and below 1e-4.
export function generalNumber(number) {
  if (Number.isNaN(number)) return "nan";
  if (!Number.isFinite(number)) return number > 0 ? "inf" : "-inf";
  if (number === 0) return "0";
  const [mantissa, power] = number.toExponential(14).split("e");
  const exponent = Number(power);
  if (exponent < -4 || exponent >= 15) {
    const sign = exponent < 0 ? "-" : "+";
    return `${trimZeros(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return trimZeros(number.toFixed(14 - exponent));
}

// Python's round(): a half to the even neighbour.
export function roundHalfEven(value) {
  return Math.abs(value % 1) === 0.5 ? 2 * Math.round(value / 2) : Math.round(value);
}

const two = (n) => String(n).padStart(2, "0");

// "hh:mm:ss" (hours past 24 stay hours, as a spreadsheet shows a duration).
export const clockText = (hours, minutes, seconds) => `${two(hours)}:${two(minutes)}:${two(seconds)}`;

// A time of day, from a Date read in UTC.
export const timeText = (moment) =>
  clockText(moment.getUTCHours(), moment.getUTCMinutes(), moment.getUTCSeconds());

// A moment (a Date read in UTC, to the second): a date at midnight, else "yyyy-mm-dd hh:mm:ss".
export function momentText(moment) {
  const year = moment.getUTCFullYear();
  if (!(year >= 1 && year <= 9999)) throw new Error("a date out of range");
  const day = `${String(year).padStart(4, "0")}-${two(moment.getUTCMonth() + 1)}-${two(moment.getUTCDate())}`;
  const time = timeText(moment);
  return time === "00:00:00" ? day : `${day} ${time}`;
}

const ISO_MOMENT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;

// An ISO 8601 date or date-time, its offset left out, as a moment to the second (a fraction
// rounded when `rounded`, else cut); null when it is none.
export function isoMoment(text, rounded) {
  const parts = ISO_MOMENT.exec(strip(text));
  if (!parts) return null;
  const [year, month, day, hours, minutes, seconds] = parts.slice(1, 7).map((p) => Number(p ?? 0));
  if (hours > 23 || minutes > 59 || seconds > 59) return null;
  const moment = new Date(0);
  moment.setUTCFullYear(year, month - 1, day);
  if (moment.getUTCMonth() !== month - 1 || moment.getUTCDate() !== day) return null;
  const extra = rounded && Number(`0.${parts[7] ?? 0}`) >= 0.5 ? 1 : 0;
  moment.setUTCHours(hours, minutes, seconds + extra, 0);
  return moment;
}
