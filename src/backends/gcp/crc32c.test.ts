import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from './crc32c.ts';

// Check values from RFC 3720, appendix B.4 (iSCSI uses CRC32C), plus the common "123456789".
// 0xe3069283 is above 2^31, so this also checks that the result is unsigned.
test('crc32c of the standard check string', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
});

test('crc32c of empty input is zero', () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('crc32c of RFC 3720 vectors', () => {
  const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
  const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);

  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(ascending), 0x46dd794e);
  assert.equal(crc32c(descending), 0x113fdb5c);
});
