// Shared by the Node tests: the golden JSON written by make_golden.py (Python reference).
import { readFileSync } from "node:fs";

export const golden = JSON.parse(readFileSync(new URL("./golden.json", import.meta.url), "utf8"));

/** base64 little-endian float32 -> Float32Array. */
export function f32(b64) {
  const bytes = Buffer.from(b64, "base64");
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** base64 bytes -> Uint8Array. */
export function u8(b64) {
  return new Uint8Array(Buffer.from(b64, "base64"));
}

/** Largest absolute difference between two equally long number arrays. */
export function maxAbsDiff(a, b) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
