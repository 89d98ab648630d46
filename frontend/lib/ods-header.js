// The header of an .ods sheet, read in the browser as the service reads it
// (api/reading/workbooks/ods.py): content.xml's tables in order, hidden ones by their table
// style (display false), the chosen table read up to its first row that is not empty.
// Repeated cells are counted, not made, but for a value repeated to the right.

import { localName, xmlEvents } from "./xml-scan.js";
import { entryString, entryText } from "./zip-entries.js";
import {
  clockText, generalNumber, headerCells, isEmptyRow, isoMoment, momentText, parseInteger,
  parseNumber, pickSheet, roundHalfEven,
} from "./sheet-cells.js";

// The prefixes every writer gives the namespaces read: names are compared as prefix:local.
const PREFIXES = new Map([
  ["urn:oasis:names:tc:opendocument:xmlns:office:1.0", "office"],
  ["urn:oasis:names:tc:opendocument:xmlns:table:1.0", "table"],
  ["urn:oasis:names:tc:opendocument:xmlns:text:1.0", "text"],
  ["urn:oasis:names:tc:opendocument:xmlns:style:1.0", "style"],
  ["urn:oasis:names:tc:opendocument:xmlns:drawing:1.0", "draw"],
  ["urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0", "calcext"],
]);
const CELLS = ["table:table-cell", "table:covered-table-cell"]; // a covered cell is under a merge
const PARAGRAPHS = ["text:p", "text:h"];
// A comment, a table within a cell: no part of the cell's value (nor are shapes, "draw:").
const PASSED_OVER = ["office:annotation", "table:table"];
const NUMBERS = ["float", "percentage", "currency"];
// The last column of Excel and of LibreOffice: a repeated value is repeated up to it.
const MAX_COLUMNS = 16_384;
const MAX_SPACES = 100_001;
const DURATION = /^(-?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d*)?)S)?)?$/;
const MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet";

// A name as prefix:local by its namespace (as the service's reader compares them).
function qualified(name, scope) {
  const colon = name.indexOf(":");
  if (colon < 0) return name;
  const uri = scope.get(name.slice(0, colon)) ?? "";
  const prefix = PREFIXES.get(uri);
  return prefix ? `${prefix}:${name.slice(colon + 1)}` : `${uri} ${name.slice(colon + 1)}`;
}

function attributesOf(event) {
  const out = {};
  for (const [key, value] of Object.entries(event.attributes)) out[qualified(key, event.scope)] = value;
  return out;
}

function numberText(text) {
  if (!text) return "";
  return /^(0|[1-9][0-9]{0,14})$/.test(text) ? text : generalNumber(parseNumber(text));
}

function dateText(text) {
  if (!text) return "";
  if (text.length === 10) return text; // yyyy-mm-dd, as LibreOffice writes a date
  const moment = isoMoment(text, true);
  return moment ? momentText(moment) : text;
}

// A duration as a spreadsheet shows it: PT36H as 36:00:00.
function durationText(text) {
  if (!text) return "";
  const match = DURATION.exec(text.trim());
  if (!match) return text;
  const [, sign, days = 0, hours = 0, minutes = 0, seconds = "0"] = match;
  const total = roundHalfEven((Number(days) * 24 + Number(hours)) * 3600 + Number(minutes) * 60
    + Number(seconds.replace(",", ".")));
  return sign + clockText(Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60);
}

// A cell's value from its attributes; null when its paragraphs are its value.
function attributeValue(attributes) {
  const kind = attributes["office:value-type"];
  if (kind === "string") {
    if (attributes["office:string-value"] !== undefined) return attributes["office:string-value"];
    return attributes["calcext:value-type"] === "error" ? "" : null; // #DIV/0! and the like: blank
  }
  if (NUMBERS.includes(kind)) return numberText(attributes["office:value"]);
  if (kind === "date") return dateText(attributes["office:date-value"]);
  if (kind === "time") return durationText(attributes["office:time-value"]);
  if (kind === "boolean") {
    const value = (attributes["office:boolean-value"] ?? "").trim().toLowerCase();
    return ["true", "1"].includes(value) ? "TRUE" : value ? "FALSE" : "";
  }
  return ""; // no value type, or one the reader does not know: a blank cell
}

// The rows of the table just started, read up to its first row that is not empty: its cells
// from column A, or [] when the table ends first.
async function firstRow(events) {
  let cells = [];
  let gap = 0; // blank cells not yet added: only a later value adds them
  let repeat = 1;
  let value = "";
  let parts = null; // the cell's paragraphs, when they are its value
  let paragraphs = 0;
  let inParagraph = 0;
  let skipped = 0; // the depth inside an element passed over
  for (;;) {
    const { done, value: event } = await events.next();
    if (done) return [];
    if (skipped) {
      if (event.kind !== "text") skipped += event.kind === "start" ? 1 : -1;
      continue;
    }
    if (event.kind === "text") {
      if (inParagraph && parts) parts.push(event.text);
      continue;
    }
    const tag = qualified(event.name, event.scope);
    if (event.kind === "start") {
      const attributes = attributesOf(event);
      if (CELLS.includes(tag)) {
        const repeated = attributes["table:number-columns-repeated"];
        repeat = repeated ? Math.max(1, parseInteger(repeated)) : 1;
        value = attributeValue(attributes);
        parts = value === null ? [] : null;
        paragraphs = 0;
      } else if (PARAGRAPHS.includes(tag)) {
        inParagraph += 1;
        if (parts) {
          if (paragraphs) parts.push("\n");
          paragraphs += 1;
        }
      } else if (tag === "table:table-row") {
        cells = [];
        gap = 0;
      } else if (tag === "text:s" && inParagraph && parts) {
        const spaces = attributes["text:c"];
        parts.push(spaces ? " ".repeat(Math.max(0, Math.min(parseInteger(spaces), MAX_SPACES))) : " ");
      } else if (tag === "text:tab" && inParagraph && parts) {
        parts.push("\t");
      } else if (tag === "text:line-break" && inParagraph && parts) {
        parts.push("\n");
      } else if (PASSED_OVER.includes(tag) || tag.startsWith("draw:")) {
        skipped = 1;
      }
    } else if (CELLS.includes(tag)) {
      const text = parts ? parts.join("") : value;
      parts = null;
      if (!text) {
        gap += repeat;
      } else if (cells.length + gap < MAX_COLUMNS) {
        // The blank cells before it, then the value as often as it repeats, up to the last column.
        const room = MAX_COLUMNS - cells.length - gap;
        cells.push(...Array(gap).fill(""), ...Array(Math.min(repeat, room)).fill(text));
        gap = 0;
      }
    } else if (PARAGRAPHS.includes(tag)) {
      inParagraph -= 1;
    } else if (tag === "table:table-row") {
      if (cells.length && !isEmptyRow(cells)) return cells;
    } else if (tag === "table:table") {
      return [];
    }
  }
}

// The element just started, passed over to its end.
async function passOver(events) {
  for (let depth = 1; depth;) {
    const { done, value: event } = await events.next();
    if (done) throw new Error("the document ends inside a table");
    if (event.kind !== "text") depth += event.kind === "start" ? 1 : -1;
  }
}

// The first row of the table `choose` picks ((index, { name, visible }) -> bool) as the
// tables come ([] for an empty one); `sheets` gets each table seen. null when none is picked.
async function chosenRow(file, entries, choose, sheets) {
  const events = xmlEvents(entryText(file, entries.get("content.xml")));
  const hidden = new Set(); // the table styles that hide a sheet
  let style = null; // the table style being read
  try {
    for (;;) {
      const { done, value: event } = await events.next();
      if (done) return null;
      if (event.kind !== "start") continue;
      const tag = qualified(event.name, event.scope);
      const attributes = attributesOf(event);
      if (tag === "table:table") {
        const sheet = {
          name: attributes["table:name"] ?? "",
          visible: !hidden.has(attributes["table:style-name"]),
          worksheet: true,
        };
        sheets.push(sheet);
        if (choose(sheets.length - 1, sheet)) return await firstRow(events);
        await passOver(events);
      } else if (tag === "style:style") {
        style = attributes["style:family"] === "table" ? attributes["style:name"] : null;
      } else if (tag === "style:table-properties" && style && attributes["table:display"] === "false") {
        hidden.add(style);
      }
    }
  } finally {
    events.return().catch(() => {});
  }
}

// Whether the archive is an OpenDocument spreadsheet, by its mimetype entry.
export async function isOds(file, entries) {
  const entry = entries.get("mimetype");
  return Boolean(entry) && entry.size < 100 && (await entryString(file, entry)).trim() === MIMETYPE;
}

// The header cells of the spreadsheet's sheet `wanted` (or its first visible one); null when
// it has no such sheet, or is protected by a password. Throws when it cannot be read.
export async function odsHeader(file, entries, wanted) {
  const manifest = entries.get("META-INF/manifest.xml");
  // A small part; an encrypted document says so in it, its content.xml is ciphered.
  if (manifest && manifest.size < 1 << 20) {
    if ((await entryString(file, manifest)).includes("encryption-data")) return null;
  }
  if (!entries.has("content.xml")) return null;
  const named = wanted && wanted.trim() ? wanted : null;
  const sheets = [];
  // The first visible sheet, or the one named exactly: nothing later can beat them.
  const first = (_, sheet) => (named === null ? sheet.visible : sheet.name === named);
  let cells = await chosenRow(file, entries, first, sheets);
  if (!cells) {
    // No sheet, or one matched by letter case or spaces alone: read again up to it.
    const picked = pickSheet(sheets, named);
    if (!picked) return null;
    const index = sheets.indexOf(picked);
    cells = await chosenRow(file, entries, (at) => at === index, []);
    if (!cells) return null;
  }
  return headerCells(cells);
}
