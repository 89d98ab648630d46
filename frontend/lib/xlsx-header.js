// The header of an .xlsx (or .xlsm) sheet, read in the browser as the service reads it
// (api/reading/workbooks/xlsx.py): the sheet from xl/workbook.xml and its relationships, its
// XML only up to its first row that is not empty, and the shared strings only up to the last
// one that row names (a large workbook's run to tens of MB). The styles are read only when a
// header cell is a number with a style, which may show it as a date.

import { attribute, localName, xmlEvents } from "./xml-scan.js";
import { entryText } from "./zip-entries.js";
import {
  generalNumber, headerCells, isEmptyRow, isoMoment, momentText, parseInteger, parseNumber,
  pickSheet, roundHalfEven, timeText,
} from "./sheet-cells.js";

const MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships";
// Built-in number formats that show a date or a time (ECMA-376 Part 1, 18.8.30).
const DATE_FORMAT_IDS = [14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47];
// A format code shows a date when it has d, m, y, h or s outside quotes, brackets and escapes.
const LITERALS = /"[^"]*"|\[[^\]]*\]|\\.|_.|\*./g;
const DATE_CODE = /[dmyhs]/i;
const LEAP_BUG_SERIAL = 60; // Excel counts a 29 February 1900: serials below it are a day later
const EPOCHS = { false: Date.UTC(1899, 11, 30), true: Date.UTC(1904, 0, 1) };

const partEvents = (file, entries, name) => xmlEvents(entryText(file, entries.get(name)));
const isMain = (event, local) => event.uri === MAIN && localName(event.name) === local;

// A relationship's target as the archive names its part (posixpath.normpath of it under xl/).
function partName(target) {
  const path = target.startsWith("/") ? target.replace(/^\/+/, "") : `xl/${target}`;
  const parts = [];
  for (const part of path.split("/")) {
    if (part === ".." && parts.length && parts[parts.length - 1] !== "..") parts.pop();
    else if (part && part !== ".") parts.push(part);
  }
  return parts.join("/") || ".";
}

// The workbook's sheets in order ({ name, visible, worksheet, part }), and whether its dates
// count from 1904.
async function sheetList(file, entries) {
  const targets = new Map();
  for await (const event of partEvents(file, entries, "xl/_rels/workbook.xml.rels")) {
    if (event.kind === "start" && event.uri === PACKAGE && localName(event.name) === "Relationship") {
      const { Id, Target = "", Type = "" } = event.attributes;
      targets.set(Id, { target: Target, type: Type });
    }
  }
  const sheets = [];
  let date1904 = false;
  let depth = 0;
  for await (const event of partEvents(file, entries, "xl/workbook.xml")) {
    if (event.kind === "start") {
      depth += 1;
      if (isMain(event, "sheet")) {
        const { target, type } = targets.get(attribute(event, RELATIONSHIPS, "id")) ?? { target: "", type: "" };
        sheets.push({
          name: event.attributes.name ?? "",
          visible: (event.attributes.state ?? "visible") === "visible",
          worksheet: type.endsWith("/worksheet"),
          part: partName(target),
        });
      } else if (depth === 2 && isMain(event, "workbookPr")) {
        date1904 = ["1", "true"].includes(event.attributes.date1904);
      }
    } else if (event.kind === "end") {
      depth -= 1;
      if (localName(event.name) === "sheets") break; // the sheets come after workbookPr
    }
  }
  return { sheets, date1904 };
}

// The shared strings, read as far as the highest one asked for.
function sharedStrings(file, entries) {
  const strings = [];
  const parts = [];
  const depth = { t: 0, rPh: 0 }; // inside a text; inside a phonetic run, which is not shown
  const entry = entries.get("xl/sharedStrings.xml");
  let events = entry ? xmlEvents(entryText(file, entry)) : null;

  function take(event) {
    if (event.kind === "text") {
      if (depth.t && !depth.rPh) parts.push(event.text);
      return;
    }
    const tag = localName(event.name);
    const step = event.kind === "start" ? 1 : -1;
    if (tag in depth) depth[tag] += step;
    else if (tag === "si" && step === 1) parts.length = 0;
    else if (tag === "si") strings.push(parts.join(""));
  }

  return {
    async get(index) {
      while (strings.length <= index && events) {
        const { done, value } = await events.next();
        if (done) events = null;
        else take(value);
      }
      if (!(index >= 0 && index < strings.length)) throw new Error(`no shared string ${index}`);
      return strings[index];
    },
    close() {
      if (events) events.return().catch(() => {});
    },
  };
}

// The cell styles (a cell's `s`, as written) whose number format shows a date or a time.
async function dateStyles(file, entries) {
  if (!entries.has("xl/styles.xml")) return new Set();
  const dated = new Set(DATE_FORMAT_IDS);
  const formats = [];
  let depth = 0;
  let cellFormats = "before"; // the first cellXfs under the root: before, in, after
  for await (const event of partEvents(file, entries, "xl/styles.xml")) {
    if (event.kind === "start") {
      depth += 1;
      if (isMain(event, "numFmt")) {
        if (DATE_CODE.test((event.attributes.formatCode ?? "").replace(LITERALS, ""))) {
          dated.add(parseInteger(event.attributes.numFmtId ?? "-1"));
        }
      } else if (depth === 2 && cellFormats === "before" && isMain(event, "cellXfs")) {
        cellFormats = "in";
      } else if (cellFormats === "in" && isMain(event, "xf")) {
        formats.push(parseInteger(event.attributes.numFmtId ?? "0"));
      }
    } else if (event.kind === "end") {
      if (depth === 2 && cellFormats === "in" && localName(event.name) === "cellXfs") cellFormats = "after";
      depth -= 1;
    }
  }
  return new Set(formats.flatMap((id, index) => (dated.has(id) ? [String(index)] : [])));
}

// A date serial as the moment it counts, to the second; a time of day alone below 1.
function serialText(serial, date1904) {
  const shifted = serial < LEAP_BUG_SERIAL && !date1904 && serial >= 1 ? serial + 1 : serial;
  const moment = new Date(EPOCHS[date1904] + roundHalfEven(shifted * 86_400) * 1000);
  if (shifted >= 0 && shifted < 1) return timeText(moment);
  return momentText(moment);
}

// Excel's last column (XFD): a reference past it is a damaged sheet, not a gap to fill.
const MAX_COLUMNS = 16_384;

// A column reference's index from column A ("C7": 2).
function columnOf(ref) {
  let column = 0;
  for (const letter of ref.replace(/[0-9]+$/, "")) column = column * 26 + letter.charCodeAt(0) - 64;
  if (!(column >= 1 && column <= MAX_COLUMNS)) throw new Error(`no such column: ${ref}`);
  return column - 1;
}

// A cell as the text a CSV export of it would hold (docs/format.md, "Cell values").
async function cellText(cell, book) {
  const { kind, text } = cell;
  if (kind === "n") {
    if (!text) return "";
    const number = parseNumber(text);
    const dated = cell.style !== "" && (await book.dateStyles()).has(cell.style);
    return dated ? serialText(number, book.date1904) : generalNumber(number);
  }
  if (kind === "s") return text ? book.strings.get(parseInteger(text)) : "";
  if (kind === "b") return text.trim() === "1" ? "TRUE" : "FALSE";
  if (kind === "e") return ""; // an error such as #N/A reads blank
  if (kind === "d") {
    const moment = isoMoment(text, false);
    return moment ? momentText(moment) : text;
  }
  return text; // an inline string, or a formula's text
}

// The sheet's first row that is not empty, its cells from column A; [] for an empty sheet.
async function firstRow(file, entries, part, book) {
  let cells = [];
  let cell = null;
  let taking = false; // inside a value, or the text of an inline string
  for await (const event of partEvents(file, entries, part)) {
    if (event.kind === "text") {
      if (taking && cell) cell.text += event.text;
      continue;
    }
    const tag = localName(event.name);
    if (event.kind === "start") {
      if (tag === "c") {
        const { t = "n", s = "", r } = event.attributes;
        cell = { kind: t, style: s, column: r ? columnOf(r) : cells.length, text: "" };
      } else if (tag === "v" || tag === "t") {
        taking = true;
      } else if (tag === "row") {
        cells = [];
      }
    } else if (tag === "c" && cell) {
      // A gap before the cell's column is empty cells.
      while (cells.length < cell.column) cells.push({ kind: "inlineStr", text: "" });
      cells.push(cell);
    } else if (tag === "v" || tag === "t") {
      taking = false;
    } else if (tag === "row") {
      const texts = [];
      for (const each of cells) texts.push(await cellText(each, book));
      if (!isEmptyRow(texts)) return texts;
    }
  }
  return [];
}

// The header cells of the workbook's sheet `wanted` (or its first visible one); null when the
// workbook has no such sheet. Throws when the archive cannot be read as a workbook.
export async function xlsxHeader(file, entries, wanted) {
  const { sheets, date1904 } = await sheetList(file, entries);
  const chosen = pickSheet(sheets, wanted);
  if (!chosen || !entries.has(chosen.part)) return null;
  let styles = null;
  const book = {
    date1904,
    strings: sharedStrings(file, entries),
    dateStyles: () => (styles = styles || dateStyles(file, entries)),
  };
  try {
    return headerCells(await firstRow(file, entries, chosen.part, book));
  } finally {
    book.strings.close();
  }
}
