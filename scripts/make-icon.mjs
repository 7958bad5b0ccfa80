// Draws the extension's icon (images/icon.png, 128x128 RGBA) with no dependency: shapes are sampled
// 4x4 per pixel for smooth edges and the PNG is written with node's zlib. `npm run icon` rewrites it;
// the output is the same bytes on every run (the vsix test checks the packaged icon is this one).
//   node scripts/make-icon.mjs [out.png]
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const SS = 4;
const out = process.argv[2] ?? join(new URL('..', import.meta.url).pathname, 'images', 'icon.png');

/** Inside a rounded square of the whole icon. */
function background(x, y) {
  const r = 22;
  const cx = Math.min(Math.max(x, r), SIZE - r);
  const cy = Math.min(Math.max(y, r), SIZE - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** Distance from (x, y) to the segment a-b. */
function segment(x, y, ax, ay, bx, by) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

/** A "K" of three strokes, like a build tree branching. */
function letter(x, y) {
  const w = 7.5;
  return segment(x, y, 38, 30, 38, 98) <= w || segment(x, y, 42, 66, 82, 30) <= w || segment(x, y, 52, 58, 84, 98) <= w;
}

/** The finding: a dot at the branch's end, as a diagnostic marks a line. */
function marker(x, y) {
  return Math.hypot(x - 92, y - 92) <= 13;
}

const BG = [0x1d, 0x3b, 0x5c];
const FG = [0xf2, 0xf5, 0xf8];
const MARK = [0xf5, 0xa6, 0x23];

function pixel(px, py) {
  let a = 0;
  const acc = [0, 0, 0];
  for (let sy = 0; sy < SS; sy++)
    for (let sx = 0; sx < SS; sx++) {
      const x = px + (sx + 0.5) / SS;
      const y = py + (sy + 0.5) / SS;
      if (!background(x, y)) continue;
      const c = marker(x, y) ? MARK : letter(x, y) ? FG : BG;
      a++;
      for (let i = 0; i < 3; i++) acc[i] += c[i];
    }
  return a === 0 ? [0, 0, 0, 0] : [...acc.map((v) => Math.round(v / a)), Math.round((255 * a) / (SS * SS))];
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const raw = Buffer.alloc(SIZE * (1 + SIZE * 4));
for (let y = 0; y < SIZE; y++) {
  raw[y * (1 + SIZE * 4)] = 0; // filter: none
  for (let x = 0; x < SIZE; x++) Buffer.from(pixel(x, y)).copy(raw, y * (1 + SIZE * 4) + 1 + x * 4);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, png);
console.log(`${out}: ${SIZE}x${SIZE}, ${png.length} bytes`);
