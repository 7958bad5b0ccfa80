// Applying LSP-style text edits to the original BYTES of a file, so that every byte outside the
// edited ranges survives whatever the encoding (a Latin-1 name in a copyright line stays Latin-1).
//
// The edits were computed on a string decoded from the bytes; `decoding` says how:
//  - 'auto' (default): the rule of decodeText (safeRead.ts): UTF-8 when valid, else Latin-1;
//  - 'utf8': strict UTF-8 (invalid bytes refuse the edit);
//  - 'latin1': one byte is one UTF-16 unit;
//  - 'utf8-replacement': the WHATWG decoder with U+FFFD replacement (what `Buffer.toString('utf8')`,
//    `fs.readFile(f, 'utf8')` and `new TextDecoder()` do), so edits computed on such a string
//    still land on the right bytes: lines are found by 0x0A bytes (never part of a UTF-8 sequence or
//    a replacement), and characters within a line are mapped by replaying the decoder.
// Lines are separated by LF ('\n'); a CR before it belongs to the line's end (as in the parser and
// nvheFixes.applyEdits). A character past the end of a line means the end of its content, as in LSP.
// New text is encoded like the file: UTF-8, or Latin-1 when the file is Latin-1 (a character above
// U+00FF then refuses the edit rather than corrupting the file).

export interface BytePos {
  line: number;
  character: number;
}
export interface ByteTextEdit {
  range: { start: BytePos; end: BytePos };
  newText: string;
}
export type EditDecoding = 'auto' | 'utf8' | 'latin1' | 'utf8-replacement';

export type ApplyBytesResult =
  | {
      ok: true;
      bytes: Buffer;
      encoding: 'utf8' | 'latin1';
      /** 0-based first lines of the edited ranges in the original. */ editedLines: number[];
    }
  | { ok: false; reason: 'encoding' | 'range' | 'overlap'; message: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** The one strict UTF-8 decoder: a BOM is kept as U+FEFF, an invalid sequence is not replaced. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as text when they are valid UTF-8 (a BOM kept as U+FEFF), else undefined. */
export function decodeStrictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function isValidUtf8(bytes: Uint8Array): boolean {
  return decodeStrictUtf8(bytes) !== undefined;
}

/**
 * Length in bytes and in UTF-16 units of the next decoded unit at `i` under the WHATWG UTF-8
 * decoder with replacement (maximal subpart: an incomplete sequence is one U+FFFD).
 */
function utf8Step(b: Uint8Array, i: number, end: number): { bytes: number; units: number } {
  const x = b[i];
  if (x < 0x80) return { bytes: 1, units: 1 };
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (x >= 0xc2 && x <= 0xdf) need = 1;
  else if (x >= 0xe0 && x <= 0xef) {
    need = 2;
    if (x === 0xe0) lo = 0xa0;
    if (x === 0xed) hi = 0x9f;
  } else if (x >= 0xf0 && x <= 0xf4) {
    need = 3;
    if (x === 0xf0) lo = 0x90;
    if (x === 0xf4) hi = 0x8f;
  } else return { bytes: 1, units: 1 }; // invalid lead byte: one U+FFFD
  let j = i + 1;
  for (let k = 0; k < need; k++, j++) {
    if (j >= end) return { bytes: j - i, units: 1 };
    const y = b[j];
    if (y < lo || y > hi) return { bytes: j - i, units: 1 }; // the offending byte is decoded again
    lo = 0x80;
    hi = 0xbf;
  }
  return { bytes: need + 1, units: need === 3 ? 2 : 1 };
}

/** Byte offsets of line starts, computed up to the highest line an edit names. */
function lineStarts(bytes: Buffer, edits: readonly ByteTextEdit[]): number[] {
  let maxLine = 0;
  for (const e of edits) maxLine = Math.max(maxLine, e.range.start.line, e.range.end.line);
  const starts: number[] = [0];
  for (let i = 0; starts.length <= maxLine;) {
    const nl = bytes.indexOf(0x0a, i);
    if (nl < 0) break;
    starts.push(nl + 1);
    i = nl + 1;
  }
  return starts;
}

/** An edit's new text in the file's encoding, or why that encoding cannot store it. */
function encodeNewText(newText: string, fileEncoding: 'utf8' | 'latin1'): Buffer | ApplyBytesResult {
  if (fileEncoding === 'latin1') {
    for (let k = 0; k < newText.length; k++) {
      if (newText.charCodeAt(k) > 0xff)
        return {
          ok: false,
          reason: 'encoding',
          message: `the file is Latin-1 (not valid UTF-8) and the new text holds U+${newText.charCodeAt(k).toString(16).toUpperCase().padStart(4, '0')}, which Latin-1 cannot store`,
        };
    }
    return Buffer.from(newText, 'latin1');
  }
  if (LONE_SURROGATE.test(newText))
    return {
      ok: false,
      reason: 'encoding',
      message: 'the new text holds a lone surrogate, which UTF-8 cannot store',
    };
  return Buffer.from(newText, 'utf8');
}

export function applyEditsToBytes(
  original: Uint8Array,
  edits: readonly ByteTextEdit[],
  decoding: EditDecoding = 'auto',
): ApplyBytesResult {
  const bytes = Buffer.from(original.buffer, original.byteOffset, original.byteLength);
  const valid = decoding === 'latin1' ? false : isValidUtf8(bytes);
  if (decoding === 'utf8' && !valid)
    return {
      ok: false,
      reason: 'encoding',
      message: 'the file is not valid UTF-8, but the edits were computed on a UTF-8 decoding',
    };
  const mode: 'utf8' | 'latin1' | 'replace' =
    decoding === 'latin1' || (decoding === 'auto' && !valid)
      ? 'latin1'
      : decoding === 'utf8-replacement' && !valid
        ? 'replace'
        : 'utf8';
  const fileEncoding: 'utf8' | 'latin1' = mode === 'latin1' ? 'latin1' : 'utf8';

  const starts = lineStarts(bytes, edits);

  const offsetOf = (p: BytePos): number | string => {
    if (!Number.isInteger(p.line) || !Number.isInteger(p.character) || p.line < 0 || p.character < 0)
      return `invalid position ${p.line}:${p.character}`;
    if (p.line >= starts.length) return bytes.length; // past the last line: end of the file (as LSP)
    const s = starts[p.line];
    const nl = bytes.indexOf(0x0a, s);
    let end = nl < 0 ? bytes.length : nl;
    if (end > s && bytes[end - 1] === 0x0d) end--;
    if (mode === 'latin1') return Math.min(s + p.character, end);
    let units = 0;
    let i = s;
    while (i < end && units < p.character) {
      const st = utf8Step(bytes, i, end); // for valid UTF-8 this is plain UTF-8 decoding
      if (units + st.units > p.character) return `position ${p.line}:${p.character} falls inside a surrogate pair`;
      units += st.units;
      i += st.bytes;
    }
    return i;
  };

  const ranges: { start: number; end: number; text: Buffer; line: number }[] = [];
  for (const e of edits) {
    const a = offsetOf(e.range.start);
    const b = offsetOf(e.range.end);
    if (typeof a === 'string') return { ok: false, reason: 'range', message: a };
    if (typeof b === 'string') return { ok: false, reason: 'range', message: b };
    if (b < a)
      return {
        ok: false,
        reason: 'range',
        message: `edit range ends before it starts (${e.range.start.line}:${e.range.start.character}–${e.range.end.line}:${e.range.end.character})`,
      };
    const text = encodeNewText(e.newText, fileEncoding);
    if (!Buffer.isBuffer(text)) return text;
    ranges.push({ start: a, end: b, text, line: e.range.start.line });
  }
  // Stable by start; an insertion at the same offset as another edit keeps the given order.
  const order = ranges
    .map((r, i) => ({ r, i }))
    .sort((x, y) => x.r.start - y.r.start || x.r.end - y.r.end || x.i - y.i);
  for (let k = 1; k < order.length; k++) {
    if (order[k].r.start < order[k - 1].r.end) return { ok: false, reason: 'overlap', message: 'edits overlap' };
  }
  const parts: Buffer[] = [];
  let at = 0;
  for (const { r } of order) {
    parts.push(bytes.subarray(at, r.start), r.text);
    at = r.end;
  }
  parts.push(bytes.subarray(at));
  return {
    ok: true,
    bytes: Buffer.concat(parts),
    encoding: fileEncoding,
    editedLines: [...new Set(order.map((o) => o.r.line))],
  };
}
