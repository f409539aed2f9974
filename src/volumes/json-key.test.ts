import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../errors.ts';
import { extractKey } from './json-key.ts';
import { assertNoSecret } from '../../test/support/no-secret.ts';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const sentinel = 'SENTINEL-json-4b1d';

function extract(json: string, key: string): string {
  return decode(extractKey(encode(json), key));
}

function failure(json: string | Uint8Array, key: string): DsvError {
  try {
    extractKey(typeof json === 'string' ? encode(json) : json, key);
  } catch (error) {
    assert.ok(error instanceof DsvError);
    return error;
  }
  assert.fail('expected extractKey to throw');
}

describe('extractKey', () => {
  it('writes strings as their text', () => {
    assert.equal(extract('{"password": "p\\u00e4ss\\nword"}', 'password'), 'päss\nword');
  });

  it('writes numbers as stored', () => {
    assert.equal(extract('{"port": 5432}', 'port'), '5432');
    assert.equal(extract('{"ratio": 1.10}', 'ratio'), '1.10');
    assert.equal(extract('{"big": 123456789012345678901234567890}', 'big'), '123456789012345678901234567890');
    assert.equal(extract('{"exp": 1e3}', 'exp'), '1e3');
  });

  it('writes booleans as JSON text', () => {
    assert.equal(extract('{"on": true, "off": false}', 'on'), 'true');
    assert.equal(extract('{"on": true, "off": false}', 'off'), 'false');
  });

  it('writes objects and arrays as compact JSON', () => {
    assert.equal(extract('{"db": { "host": "h", "port": 1.50 }}', 'db'), '{"host":"h","port":1.50}');
    assert.equal(extract('{"list": [1, "a", null]}', 'list'), '[1,"a",null]');
  });

  it('prefers a literal key over a dotted path', () => {
    assert.equal(extract('{"a.b": "literal", "a": {"b": "nested"}}', 'a.b'), 'literal');
  });

  it('follows a dotted path into nested objects', () => {
    assert.equal(extract('{"a": {"b": {"c": "deep"}}}', 'a.b.c'), 'deep');
  });

  it('does not walk into arrays or scalars', () => {
    assert.equal(failure('{"a": [{"b": 1}]}', 'a.0.b').code, 'KEY_NOT_FOUND');
    assert.equal(failure('{"a": 5}', 'a.b').code, 'KEY_NOT_FOUND');
  });

  it('rejects missing, null and empty values naming the key', () => {
    for (const [json, key] of [
      ['{"a": 1}', 'b'],
      ['{"a": null}', 'a'],
      ['{"a": ""}', 'a'],
      ['{"a": {}}', 'a.b'],
    ] as const) {
      const error = failure(json, key);
      assert.equal(error.code, 'KEY_NOT_FOUND', json);
      assert.match(error.message, new RegExp(`key "${key.replace('.', '\\.')}"`));
    }
  });

  it('does not find inherited properties', () => {
    assert.equal(failure('{"a": 1}', 'constructor').code, 'KEY_NOT_FOUND');
    assert.equal(failure('{"a": 1}', 'toString').code, 'KEY_NOT_FOUND');
  });

  it('rejects secrets that are not JSON objects', () => {
    assert.equal(failure('not json', 'a').code, 'SECRET_NOT_JSON');
    assert.equal(failure('[1, 2]', 'a').code, 'SECRET_NOT_JSON');
    assert.equal(failure('"text"', 'a').code, 'SECRET_NOT_JSON');
    assert.equal(failure(Uint8Array.from([0xff, 0xfe, 0x7b]), 'a').code, 'SECRET_NOT_JSON');
  });

  it('never quotes the secret in errors', () => {
    const errors = [
      failure(`${sentinel} is not json`, 'a'),
      failure(`{"a": "${sentinel}"`, 'a'),
      failure(`{"a": "${sentinel}"}`, 'b'),
      failure(`["${sentinel}"]`, 'a'),
    ];
    for (const error of errors) {
      assertNoSecret(error.describe(), sentinel, 'the error');
      assert.equal(error.cause, undefined);
    }
  });
});
