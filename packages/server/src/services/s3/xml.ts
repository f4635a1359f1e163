/**
 * S3 XML: responses are written by hand (escaped), request documents are parsed with
 * fast-xml-parser. Every response document carries the 2006-03-01 namespace the SDKs expect.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './auth.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Escapes text for element content and attribute values. Characters XML 1.0 cannot carry are written as references S3 uses. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const ESCAPED = /[<>&'"\r\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

export function esc(s: string): string {
  return s.replace(ESCAPED, (c) => {
    switch (c) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case "'":
        return '&apos;';
      case '"':
        return '&quot;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

/** A child value: text, a number, a boolean, nested children, or absent. */
export type XmlValue = string | number | boolean | null | undefined | XmlNode | XmlNode[];
export interface XmlNode {
  [name: string]: XmlValue;
}

function child(name: string, v: XmlValue): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((n) => child(name, n)).join('');
  if (typeof v === 'object') return `<${name}>${children(v)}</${name}>`;
  return `<${name}>${esc(String(v))}</${name}>`;
}

function children(node: XmlNode): string {
  let out = '';
  for (const [k, v] of Object.entries(node)) out += child(k, v);
  return out;
}

/** A whole response document: `<Root xmlns="…">children</Root>`. Arrays repeat the element name. */
export function xmlDocument(root: string, node: XmlNode): string {
  return `${XML_DECL}<${root} xmlns="${S3_NS}">${children(node)}</${root}>`;
}

/** The S3 error document. */
export function errorDocument(code: string, message: string, requestId: string, hostId: string, extra: Record<string, string>): string {
  let body = `<Code>${esc(code)}</Code><Message>${esc(message)}</Message>`;
  for (const [k, v] of Object.entries(extra)) body += `<${k}>${esc(v)}</${k}>`;
  body += `<RequestId>${esc(requestId)}</RequestId><HostId>${esc(hostId)}</HostId>`;
  return `${XML_DECL}<Error>${body}</Error>`;
}

export function malformedXml(): S3Error {
  return new S3Error(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
}

/** Is this code point a character XML 1.0 allows (the `Char` production)? */
function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** A character XML 1.0 forbids, written as it is (lone surrogates included). */
const FORBIDDEN_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const PREDEFINED_ENTITIES = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['apos', "'"],
  ['quot', '"'],
]);

/**
 * References in text, decoded as XML 1.0 does: the five predefined entities and character
 * references (`&#65;`, `&#x41;`). A reference to a character XML forbids (`&#0;`), an unknown
 * entity or a bare `&` makes the document malformed, as it does for S3: a key is never read as
 * another key. (fast-xml-parser's own decoder drops `&#0;` and leaves `&#65;` undecoded.)
 * CDATA sections are not passed here: their text is literal.
 */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^&;]*)(;?)/g, (_all, ref: string, semicolon: string) => {
    if (semicolon !== ';') throw malformedXml();
    let cp: number;
    if (/^#x[0-9a-fA-F]{1,6}$/.test(ref)) cp = parseInt(ref.slice(2), 16);
    else if (/^#[0-9]{1,7}$/.test(ref)) cp = Number(ref.slice(1));
    else {
      const named = PREDEFINED_ENTITIES.get(ref);
      if (named === undefined) throw malformedXml();
      return named;
    }
    if (!isXmlChar(cp)) throw malformedXml();
    return String.fromCodePoint(cp);
  });
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  entityDecoder: {
    decode: decodeXmlText,
    // Entities declared in a DOCTYPE are refused (parseXml refuses any DOCTYPE first).
    addInputEntities: (entities) => {
      if (Object.keys(entities).length > 0) throw malformedXml();
    },
    setExternalEntities: () => undefined,
    reset: () => undefined,
    setXmlVersion: () => undefined,
  },
  ignoreDeclaration: true,
  // Repeating elements always come back as arrays, single ones too.
  isArray: (name) => name === 'Part' || name === 'Object',
});

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a request document; its root element must be `root`. A document that is not UTF-8, has
 * a character XML 1.0 forbids, a bad reference or a DOCTYPE is MalformedXML (bytes that do not
 * decode are not read as U+FFFD: a key is never read as another key). Line ends are normalised to
 * `\n` (XML 1.0 §2.11); a carriage return in a value must be written `&#13;`, as the SDKs do.
 */
export function parseXml(body: string | Uint8Array, root: string): Record<string, unknown> {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = UTF8.decode(body);
    } catch {
      throw malformedXml();
    }
  }
  if (FORBIDDEN_CHAR.test(text) || /<!DOCTYPE/i.test(text)) throw malformedXml();
  text = text.replace(/\r\n?/g, '\n');
  if (XMLValidator.validate(text) !== true) throw malformedXml();
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch {
    throw malformedXml();
  }
  const top = (doc as Record<string, unknown> | null)?.[root];
  if (top === undefined) throw malformedXml();
  // An element with no children parses as '' (text).
  if (top === '' || top === null) return {};
  if (typeof top !== 'object' || Array.isArray(top)) throw malformedXml();
  return top as Record<string, unknown>;
}

/** A child element's text, or undefined. Nested elements or repeated ones are malformed. */
export function textOf(node: Record<string, unknown>, name: string): string | undefined {
  const v = node[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw malformedXml();
}

/** Repeated child elements (objects), possibly none. */
export function listOf(node: Record<string, unknown>, name: string): Record<string, unknown>[] {
  const v = node[name];
  if (v === undefined) return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => {
    if (x === '' || x === null) return {};
    if (typeof x !== 'object' || Array.isArray(x)) throw malformedXml();
    return x as Record<string, unknown>;
  });
}
