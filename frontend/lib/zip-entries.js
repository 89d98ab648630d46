// A ZIP archive (a workbook is one) read in the browser a slice at a time: its central
// directory from the file's end, then one entry's bytes, inflated only as far as they are
// read (DecompressionStream), never the whole file in memory. Zip64 sizes and offsets are read
// where the archive needs them. Anything else than an archive this reads throws.

const END = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const END_SIZE = 22;
const LOCATOR_SIZE = 20;
const MAX_COMMENT = 0xffff;
const STORED = 0;
const DEFLATED = 8;
// Past any workbook's directory (one entry is some 100 bytes): a larger one is no workbook.
const MAX_DIRECTORY = 64 * 1024 * 1024;
// Read and inflated this much at a time: what the reader asks for, and a little more.
const SLICE = 32 * 1024;
const utf8 = new TextDecoder();

async function bytesAt(file, start, length) {
  if (start < 0 || start + length > file.size) throw new Error("the archive points past its end");
  return new DataView(await file.slice(start, start + length).arrayBuffer());
}

const u64 = (view, at) => Number(view.getBigUint64(at, true));

// Where the central directory is and how long, from the end record (zip64's when it says so).
async function directory(file) {
  const tailLength = Math.min(file.size, END_SIZE + MAX_COMMENT);
  const tailStart = file.size - tailLength;
  const tail = await bytesAt(file, tailStart, tailLength);
  let end = -1;
  for (let at = tailLength - END_SIZE; at >= 0; at -= 1) {
    if (tail.getUint32(at, true) === END) { end = at; break; }
  }
  if (end < 0) throw new Error("no end of central directory");
  let count = tail.getUint16(end + 10, true);
  let size = tail.getUint32(end + 12, true);
  let offset = tail.getUint32(end + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locatorAt = tailStart + end - LOCATOR_SIZE;
    const locator = await bytesAt(file, locatorAt, LOCATOR_SIZE);
    if (locator.getUint32(0, true) !== ZIP64_LOCATOR) throw new Error("no zip64 locator");
    const record = await bytesAt(file, u64(locator, 8), 56);
    if (record.getUint32(0, true) !== ZIP64_END) throw new Error("no zip64 end record");
    count = u64(record, 32);
    size = u64(record, 40);
    offset = u64(record, 48);
  }
  if (size > MAX_DIRECTORY) throw new Error("the central directory is too large");
  return { count, size, offset };
}

// The zip64 extra field's values, in their order, for the fields the header marks as too big.
function zip64Extra(view, at, length, entry) {
  for (let field = at; field + 4 <= at + length;) {
    const id = view.getUint16(field, true);
    const size = view.getUint16(field + 2, true);
    if (id === 1) {
      let value = field + 4;
      for (const key of ["size", "compressedSize", "offset"]) {
        if (entry[key] === 0xffffffff && value + 8 <= field + 4 + size) {
          entry[key] = u64(view, value);
          value += 8;
        }
      }
      return;
    }
    field += 4 + size;
  }
}

// The archive's entries by name (a name listed twice: the last one, as Python's zipfile reads).
export async function zipEntries(file) {
  const { count, size, offset } = await directory(file);
  const view = await bytesAt(file, offset, size);
  const entries = new Map();
  let at = 0;
  for (let n = 0; n < count; n += 1) {
    if (at + 46 > size || view.getUint32(at, true) !== CENTRAL) throw new Error("a damaged central directory");
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const name = utf8.decode(new Uint8Array(view.buffer, at + 46, nameLength));
    const entry = {
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      offset: view.getUint32(at + 42, true),
    };
    zip64Extra(view, at + 46 + nameLength, extraLength, entry);
    entries.set(name, entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

// The bytes from start to end, a slice at a time, read only when the stream is pulled.
function slices(file, start, end) {
  let at = start;
  return new ReadableStream({
    async pull(controller) {
      if (at >= end) return controller.close();
      const next = Math.min(end, at + SLICE);
      const bytes = new Uint8Array(await file.slice(at, next).arrayBuffer());
      at = next;
      return controller.enqueue(bytes);
    },
  }, { highWaterMark: 0 });
}

// The entry's text (UTF-8) as chunks of a string, inflated as they are asked for; leaving the
// loop early stops the reading there.
export async function* entryText(file, entry) {
  if (entry.flags & 1) throw new Error("the entry is encrypted");
  if (entry.method !== STORED && entry.method !== DEFLATED) throw new Error("an unknown compression");
  const local = await bytesAt(file, entry.offset, 30);
  if (local.getUint32(0, true) !== LOCAL) throw new Error("no local header");
  const start = entry.offset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
  if (start + entry.compressedSize > file.size) throw new Error("the entry runs past the archive");
  let bytes = slices(file, start, start + entry.compressedSize);
  if (entry.method === DEFLATED) bytes = bytes.pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = bytes.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

// A small entry's whole text.
export async function entryString(file, entry) {
  let text = "";
  for await (const chunk of entryText(file, entry)) text += chunk;
  return text;
}
