/** An assertion for sentinel tests whose failure message never repeats the secret itself. */
import assert from 'node:assert/strict';

/** Fails when `text` contains `secret`, showing `text` with the secret masked. */
export function assertNoSecret(text: string, secret: string, where: string): void {
  assert.ok(!text.includes(secret), `${where} contains the secret: ${text.replaceAll(secret, '<secret>')}`);
}
