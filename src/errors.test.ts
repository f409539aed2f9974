import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DsvError, errorCatalog, isErrorCode, toDsvError, type ErrorCode } from './errors.ts';

const root = path.resolve(import.meta.dirname, '..');

interface DocumentedCode {
  fault: string;
  retryable: boolean;
}

async function documentedCodes(): Promise<Map<string, DocumentedCode>> {
  const page = await readFile(path.join(root, 'docs', 'errors.md'), 'utf8');
  const codes = new Map<string, DocumentedCode>();
  for (const match of page.matchAll(/^\| `([A-Z_]+)` \| (\w+) \| (yes|no) \|/gm)) {
    codes.set(match[1]!, { fault: match[2]!, retryable: match[3] === 'yes' });
  }
  return codes;
}

/** Codes in `new DsvError('CODE'` or `code: 'CODE'` anywhere in src/, tests excluded. */
async function thrownCodes(): Promise<Set<string>> {
  const codes = new Set<string>();
  const files = await readdir(path.join(root, 'src'), { recursive: true });
  for (const file of files) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const text = await readFile(path.join(root, 'src', file), 'utf8');
    for (const match of text.matchAll(/DsvError\(\s*'([A-Z_]+)'/g)) codes.add(match[1]!);
    for (const match of text.matchAll(/code: '([A-Z_]+)'/g)) codes.add(match[1]!);
  }
  return codes;
}

describe('error catalog', () => {
  it('matches docs/errors.md code for code', async () => {
    const documented = await documentedCodes();
    assert.deepEqual([...documented.keys()].sort(), Object.keys(errorCatalog).sort());
    for (const [code, spec] of Object.entries(errorCatalog)) {
      assert.deepEqual(documented.get(code), { fault: spec.fault, retryable: spec.retryable }, code);
    }
  });

  it('has a hint ending in a full stop for every code', () => {
    for (const [code, spec] of Object.entries(errorCatalog)) {
      assert.match(spec.hint, /^[A-Z"].*\.$/, code);
    }
  });

  it('lists only codes the code throws', async () => {
    const thrown = await thrownCodes();
    for (const code of thrown) assert.ok(isErrorCode(code), `src/ throws ${code}, which the catalog lacks`);
    const unused = Object.keys(errorCatalog).filter((code) => !thrown.has(code));
    assert.deepEqual(unused, [], 'catalog codes that nothing in src/ throws');
  });
});

describe('DsvError', () => {
  it('describes where, what, the code and the fix', () => {
    const error = new DsvError('SECRET_NOT_FOUND', 'no such secret').withContext({ volume: 'db', backend: 'aws', secret: 'prod/db' });
    assert.equal(
      error.describe(),
      `volume "db", aws secret "prod/db": no such secret [SECRET_NOT_FOUND] ${errorCatalog.SECRET_NOT_FOUND.hint}`,
    );
  });

  it('keeps the most specific context', () => {
    const inner = new DsvError('ACCESS_DENIED', 'denied', { context: { secret: 'inner' } });
    assert.deepEqual(inner.withContext({ volume: 'v', secret: 'outer' }).context, { volume: 'v', secret: 'inner' });
  });

  it('carries fault, retryable and retryAfterMs', () => {
    const error = new DsvError('THROTTLED', 'slow down', { retryAfterMs: 1500 });
    assert.equal(error.fault, 'backend');
    assert.equal(error.retryable, true);
    assert.equal(error.withContext({ volume: 'v' }).retryAfterMs, 1500);
    assert.equal(new DsvError('ACCESS_DENIED', 'x').retryable, false);
  });

  it('wraps unknown errors as INTERNAL', () => {
    const wrapped = toDsvError(new TypeError('boom'));
    assert.equal(wrapped.code, 'INTERNAL' satisfies ErrorCode);
    assert.match(wrapped.message, /unexpected error: boom/);
    assert.equal(toDsvError('text').message, 'unexpected error: text');
  });
});
