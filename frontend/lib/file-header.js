// The header cells of a chosen file, read in the browser as the service reads them
// (docs/format.md). A CSV file: the first line that is not blank, its delimiter the one of
// comma, semicolon and tab counted most outside quotes, quoted cells unquoted. An .xlsx, .xlsm
// or .ods workbook (a ZIP archive): its sheet's first row, by workbook-header.js. An .xls (an
// OLE2 file) answers null: its header is read on upload only.

import { workbookHeader } from "./workbook-header.js";

// More than any header; a header longer than this is read as far as it goes.
const HEAD_BYTES = 256 * 1024;
const DELIMITERS = [",", ";", "\t"];
// The first bytes the service takes for a workbook's container (api/reading/records.py).
const ZIP_MAGIC = [[0x50, 0x4b, 0x03, 0x04], [0x50, 0x4b, 0x05, 0x06]];
const OLE2_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

// The upload's encoding names (GET /api/encodings) as TextDecoder knows them; the IBM code
// pages it lacks read their header's ASCII letters rightly as Windows-1252.
const DECODERS = {
  "utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16-le": "utf-16le", "utf-16-be": "utf-16be",
  cp1252: "windows-1252", "mac-roman": "macintosh", "iso8859-15": "iso-8859-15",
  "iso8859-1": "windows-1252", cp858: "windows-1252", cp850: "windows-1252",
};

const startsWith = (bytes, magic) => magic.every((b, i) => bytes[i] === b);

function decode(bytes, encoding) {
  if (startsWith(bytes, [0xff, 0xfe])) return new TextDecoder("utf-16le").decode(bytes);
  if (startsWith(bytes, [0xfe, 0xff])) return new TextDecoder("utf-16be").decode(bytes);
  const named = DECODERS[encoding];
  if (named) return new TextDecoder(named).decode(bytes, { stream: true });
  try {
    // stream: a character cut by the slice's end is not an error.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

// Excel's first line "sep=;" names the delimiter and is not the header.
const SEP_LINE = /^\s*sep=(.)\s*$/i;
const BLANK_LINE = /^[,;\t ]*(?:\r\n|\n|\r)/;

const firstLine = (text) => /^[^\r\n]*/.exec(text)[0];

function firstRecord(text) {
  let rest = text.replace(/^\ufeff/, "");
  let delimiter = null;
  const sep = SEP_LINE.exec(firstLine(rest));
  if (sep) {
    delimiter = sep[1];
    rest = rest.slice(sep[0].length).replace(/^(\r\n|\n|\r)/, "");
  }
  // Skip the lines that hold only delimiters and white space.
  for (let blank = BLANK_LINE.exec(rest); blank; blank = BLANK_LINE.exec(rest)) {
    rest = rest.slice(blank[0].length);
  }
  if (/^[,;\s]*$/.test(rest)) return [];
  if (!delimiter) {
    const outside = firstLine(rest).split('"').filter((_, i) => i % 2 === 0).join("");
    const counts = DELIMITERS.map((d) => outside.split(d).length - 1);
    const best = counts.indexOf(Math.max(...counts));
    delimiter = counts[best] ? DELIMITERS[best] : ",";
  }
  return parseRecord(rest, delimiter);
}

// One RFC 4180 record: quoted cells may hold delimiters, doubled quotes and line breaks.
function parseRecord(text, delimiter) {
  const cells = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === delimiter) {
      cells.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      break;
    } else {
      cell += c;
    }
  }
  cells.push(cell);
  return cells;
}

// The header cells of `file` (a File), a CSV file's read with the upload's `encoding` when one
// is named, a workbook's from its `sheet` when one is named; null for an .xls, or a file that
// cannot be read.
export async function readHeader(file, encoding = "", sheet = "") {
  let bytes;
  try {
    // A workbook is read from its end: only its first bytes are read here.
    const magic = new Uint8Array(await file.slice(0, OLE2_MAGIC.length).arrayBuffer());
    if (ZIP_MAGIC.some((zip) => startsWith(magic, zip))) return workbookHeader(file, sheet);
    if (startsWith(magic, OLE2_MAGIC)) return null;
    bytes = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  } catch {
    return null;
  }
  return firstRecord(decode(bytes, encoding));
}
