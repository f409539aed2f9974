/**
 * CRC32C (Castagnoli), the checksum Secret Manager sends as `dataCrc32c` with every payload.
 * Node has no built-in CRC32C (zlib.crc32 is the IEEE polynomial), so it is computed here with
 * the usual 256-entry table over the reflected polynomial 0x82F63B78.
 */

const table = buildTable();

function buildTable(): Uint32Array {
  const entries = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
    entries[byte] = crc >>> 0;
  }
  return entries;
}

/** Computes the CRC32C of `data` as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
