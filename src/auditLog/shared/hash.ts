/**
 * SHA-256 and a canonical encoding of Convex values, in plain TypeScript.
 *
 * Why not `crypto.subtle`: it is async, and the chain must hash identically in
 * the Convex runtime, in convex-test's edge-runtime and in Node scripts that
 * verify an export offline. A synchronous pure implementation is the one thing
 * guaranteed to behave the same everywhere, and it keeps the component free of
 * Node built-ins.
 */
import { convexToJson, type Value } from "convex/values";

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
  0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 of raw bytes, as 32 bytes. */
export function sha256Bytes(message: Uint8Array): Uint8Array {
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
    0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  // Whole blocks straight from the message; only the tail is copied and
  // padded (0x80, zeros, then the bit length as a 64-bit big-endian integer).
  const whole = Math.floor(message.length / 64);
  for (let block = 0; block < whole; block++)
    compress(h, w, message, block * 64);
  const rest = message.length - whole * 64;
  const tail = new Uint8Array(rest + 9 > 64 ? 128 : 64);
  tail.set(message.subarray(whole * 64));
  tail[rest] = 0x80;
  const view = new DataView(tail.buffer);
  const bitLength = message.length * 8;
  view.setUint32(tail.length - 8, Math.floor(bitLength / 2 ** 32));
  view.setUint32(tail.length - 4, bitLength >>> 0);
  for (let offset = 0; offset < tail.length; offset += 64)
    compress(h, w, tail, offset);
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(i * 4, h[i]);
  return out;
}

/** One SHA-256 compression round over the 64 bytes of `m` at `offset`. */
function compress(
  h: Uint32Array,
  w: Uint32Array,
  m: Uint8Array,
  offset: number,
): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    w[i] = (m[j] << 24) | (m[j + 1] << 16) | (m[j + 2] << 8) | m[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = h[0];
  let b = h[1];
  let c = h[2];
  let d = h[3];
  let e = h[4];
  let f = h[5];
  let g = h[6];
  let hh = h[7];
  for (let i = 0; i < 64; i++) {
    const s1 =
      ((e >>> 6) | (e << 26)) ^
      ((e >>> 11) | (e << 21)) ^
      ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + s1 + ch + K[i] + w[i]) | 0;
    const s0 =
      ((a >>> 2) | (a << 30)) ^
      ((a >>> 13) | (a << 19)) ^
      ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (s0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

/** SHA-256 of a string (UTF-8), as 64 lowercase hex characters. */
export function sha256Hex(text: string): string {
  const bytes = sha256Bytes(new TextEncoder().encode(text));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * A deterministic text form of a Convex value: Convex's JSON encoding (so
 * int64, bytes and `undefined`-free objects survive) with object keys sorted,
 * because the database does not promise to keep field order.
 */
export function canonicalJson(value: Value | undefined): string {
  return stableStringify(convexToJson(value === undefined ? null : value));
}

function stableStringify(json: unknown): string {
  if (json === null || typeof json !== "object") return JSON.stringify(json);
  if (Array.isArray(json)) return `[${json.map(stableStringify).join(",")}]`;
  const keys = Object.keys(json as Record<string, unknown>).sort();
  return `{${keys
    .map(
      (k) =>
        `${JSON.stringify(k)}:${stableStringify((json as Record<string, unknown>)[k])}`,
    )
    .join(",")}}`;
}

/** SHA-256 (hex) of the canonical form of a Convex value. */
export function hashValue(value: Value | undefined): string {
  return sha256Hex(canonicalJson(value));
}
