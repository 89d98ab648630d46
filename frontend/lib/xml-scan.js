// XML read as a stream of events, from chunks of text, by small careful scanning: start tags
// (with their namespace, resolved as the document declares it), end tags and text, entities
// decoded; comments, processing instructions and the doctype passed over, CDATA as text. For
// reading the first rows of a workbook's parts: a reader leaves the loop once it has what it
// needs, and the rest of the part is never read.

const NAMED = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'" };
const ENTITY = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;
const TAG = /<(\/?)([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
// Opening, closing: what is not markup for a reader of cells.
const PASSED = [["<!--", "-->"], ["<![CDATA[", "]]>"], ["<?", "?>"], ["<!", ">"]];
// A token (a tag, a run of text) longer than this is no part a spreadsheet writes.
const MAX_PENDING = 8 * 1024 * 1024;
const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace";

function character(code) {
  try {
    return String.fromCodePoint(code);
  } catch {
    throw new Error("a character reference out of range");
  }
}

// "&lt;b&gt; &amp; &#233;" as "<b> & é".
export function decodeEntities(text) {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY, (_, hex, decimal, name) =>
    (name ? NAMED[name] : character(hex ? parseInt(hex, 16) : Number(decimal))));
}

// As an XML parser gives text: line ends as "\n".
const textOf = (raw) => decodeEntities(raw.replace(/\r\n?/g, "\n"));
// As an XML parser gives an attribute's value: white space characters as spaces.
const valueOf = (raw) => decodeEntities(raw.replace(/\r\n?/g, "\n").replace(/[\t\n]/g, " "));

const prefixOf = (name) => {
  const colon = name.indexOf(":");
  return colon < 0 ? "" : name.slice(0, colon);
};
export const localName = (name) => name.slice(name.indexOf(":") + 1);

// The namespace URI of a name in a scope (an unprefixed attribute has none: `attribute`).
const uriOf = (scope, name) => scope.get(prefixOf(name)) ?? "";

function tagEvent(match, scopes) {
  const [, closing, name, rawAttributes, selfClosing] = match;
  if (closing) {
    const scope = scopes.length > 1 ? scopes.pop() : scopes[0];
    return [{ kind: "end", name, uri: uriOf(scope, name), scope }];
  }
  const attributes = {};
  let scope = scopes[scopes.length - 1];
  if (rawAttributes) {
    for (const [, key, double, single] of rawAttributes.matchAll(ATTRIBUTE)) {
      const value = valueOf(double ?? single);
      attributes[key] = value;
      if (key === "xmlns" || key.startsWith("xmlns:")) {
        if (scope === scopes[scopes.length - 1]) scope = new Map(scope);
        scope.set(key === "xmlns" ? "" : key.slice(6), value);
      }
    }
  }
  const start = { kind: "start", name, uri: uriOf(scope, name), attributes, scope };
  if (selfClosing) return [start, { kind: "end", name, uri: start.uri, scope }];
  scopes.push(scope);
  return [start];
}

// The value of a start event's attribute `local` in namespace `uri` ("" for none).
export function attribute(event, uri, local) {
  for (const [key, value] of Object.entries(event.attributes)) {
    if (localName(key) !== local) continue;
    const prefix = prefixOf(key);
    if (prefix ? event.scope.get(prefix) === uri : uri === "") return value;
  }
  return undefined;
}

// The events of the markup in `text`, and where its unfinished rest starts.
function scanned(text, scopes, ended) {
  const events = [];
  let at = 0;
  for (;;) {
    const open = text.indexOf("<", at);
    if (open < 0) {
      if (ended && at < text.length) events.push({ kind: "text", text: textOf(text.slice(at)) });
      return { events, rest: ended ? text.length : at };
    }
    if (open > at) events.push({ kind: "text", text: textOf(text.slice(at, open)) });
    at = open;
    const passed = PASSED.find(([opening]) => text.startsWith(opening, at));
    if (passed) {
      const close = text.indexOf(passed[1], at + passed[0].length);
      if (close < 0) break;
      if (passed[0] === "<![CDATA[") events.push({ kind: "text", text: text.slice(at + 9, close) });
      at = close + passed[1].length;
      continue;
    }
    TAG.lastIndex = at;
    const match = TAG.exec(text);
    if (!match) break;
    events.push(...tagEvent(match, scopes));
    at = TAG.lastIndex;
  }
  if (ended) throw new Error("the XML ends inside a tag");
  return { events, rest: at };
}

// The XML events of the text chunks, one at a time. Throws on what is no XML.
export async function* xmlEvents(chunks) {
  const scopes = [new Map([["xml", XML_NAMESPACE]])];
  let pending = "";
  for await (const chunk of chunks) {
    const text = pending + chunk;
    const { events, rest } = scanned(text, scopes, false);
    pending = text.slice(rest);
    if (pending.length > MAX_PENDING) throw new Error("an XML token too long");
    yield* events;
  }
  yield* scanned(pending, scopes, true).events;
}
