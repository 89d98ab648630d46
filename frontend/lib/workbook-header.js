// The header cells of a chosen .xlsx, .xlsm or .ods workbook, read in the browser as the
// service reads them (docs/format.md, "Workbooks"): the sheet named `sheet`, or the first
// visible one; its first row that is not empty, without the blank cells at its end. The kind
// is told by what the archive holds, as the service tells it. null for anything that cannot be
// read so (another archive, a damaged one, a missing sheet): the upload then says why.

import { isOds, odsHeader } from "./ods-header.js";
import { xlsxHeader } from "./xlsx-header.js";
import { zipEntries } from "./zip-entries.js";

export async function workbookHeader(file, sheet = "") {
  try {
    const entries = await zipEntries(file);
    if (entries.has("xl/workbook.xml")) return await xlsxHeader(file, entries, sheet);
    if (await isOds(file, entries)) return await odsHeader(file, entries, sheet);
    return null;
  } catch {
    return null;
  }
}
