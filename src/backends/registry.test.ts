import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DsvError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { BackendDefinition, BackendEnvironment, SecretBackend } from './backend.ts';
import { BackendRegistry } from './registry.ts';

const silent = createLogger('silent');
const env = Object.freeze({ DSV_FAKE_REGION: 'eu-1' });

/** Builds a definition whose create() records each call and then calls `build`. */
function fakeDefinition(
  name: string,
  build: (environment: BackendEnvironment) => Promise<SecretBackend> = async () => newBackend(),
): BackendDefinition & { creates: BackendEnvironment[] } {
  const creates: BackendEnvironment[] = [];
  return {
    name,
    description: `fake backend ${name}`,
    options: {},
    settings: {},
    creates,
    create(environment) {
      creates.push(environment);
      return build(environment);
    },
  };
}

function newBackend(): SecretBackend {
  return { fetch: async () => new Uint8Array() };
}

const invalidNames = ['', 'File', '1file', '-file', 'my_backend', 'a b', 'a.b', 'é', 'x'.repeat(33)];

for (const name of invalidNames) {
  const label = name.length > 32 ? `of ${name.length} characters` : JSON.stringify(name);
  test(`BackendRegistry rejects name ${label}`, () => {
    assert.throws(() => new BackendRegistry([fakeDefinition(name)], env, silent), /backend name .* is invalid/);
  });
}

test('BackendRegistry accepts edge-case valid names', () => {
  const names = ['a', 'aws-sm', 'gcp2', 'x'.repeat(32)];

  const registry = new BackendRegistry(names.map((name) => fakeDefinition(name)), env, silent);

  assert.deepEqual(registry.names(), names);
});

test('BackendRegistry rejects a duplicate name', () => {
  const definitions = [fakeDefinition('file'), fakeDefinition('vault'), fakeDefinition('file')];

  assert.throws(() => new BackendRegistry(definitions, env, silent), /backend "file" is registered twice/);
});

test('definition returns the registered definition', () => {
  const file = fakeDefinition('file');
  const registry = new BackendRegistry([file, fakeDefinition('vault')], env, silent);

  assert.equal(registry.definition('file'), file);
});

for (const name of ['nope', 'File', '', '__proto__', 'constructor']) {
  test(`definition of unknown ${JSON.stringify(name)} is INVALID_OPTION`, () => {
    const registry = new BackendRegistry([fakeDefinition('file'), fakeDefinition('vault')], env, silent);

    assert.throws(
      () => registry.definition(name),
      (error: unknown) => {
        assert.ok(error instanceof DsvError);
        assert.equal(error.code, 'INVALID_OPTION');
        assert.ok(error.message.includes(`unknown backend "${name}"`), error.message);
        assert.ok(error.message.includes('known backends: file, vault'), error.message);
        return true;
      },
    );
  });
}

test('backend of an unknown name rejects with INVALID_OPTION', async () => {
  const registry = new BackendRegistry([fakeDefinition('file')], env, silent);

  await assert.rejects(async () => registry.backend('nope'), { code: 'INVALID_OPTION' });
});

test('backend loads nothing at construction', () => {
  const file = fakeDefinition('file');

  new BackendRegistry([file], env, silent);

  assert.equal(file.creates.length, 0);
});

test('backend loads once for concurrent callers', async () => {
  const file = fakeDefinition('file');
  const vault = fakeDefinition('vault');
  const registry = new BackendRegistry([file, vault], env, silent);

  const loaded = await Promise.all([registry.backend('file'), registry.backend('file'), registry.backend('file')]);
  const later = await registry.backend('file');

  assert.equal(file.creates.length, 1);
  assert.equal(loaded[1], loaded[0]);
  assert.equal(loaded[2], loaded[0]);
  assert.equal(later, loaded[0]);
  assert.equal(vault.creates.length, 0, 'loading one backend must not load another');
});

test('backend passes env and a logger bound to the backend', async () => {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
  const file = fakeDefinition('file', async (environment) => {
    environment.logger.info('creating');
    return newBackend();
  });
  const registry = new BackendRegistry([file], env, logger);

  await registry.backend('file');

  assert.equal(file.creates[0]?.env, env);
  const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    records.map((record) => [record.msg, record.backend]),
    [
      ['creating', 'file'],
      ['backend loaded', 'file'],
    ],
  );
});

test('backend retries a failed load on the next call', async () => {
  const failure = new DsvError('BACKEND_UNAVAILABLE', 'SDK failed to load');
  let attempts = 0;
  const file = fakeDefinition('file', async () => {
    attempts++;
    if (attempts === 1) throw failure;
    return newBackend();
  });
  const registry = new BackendRegistry([file], env, silent);

  const first = registry.backend('file');
  const concurrent = registry.backend('file');
  await assert.rejects(first, (error: unknown) => error === failure);
  await assert.rejects(concurrent, (error: unknown) => error === failure);
  assert.equal(file.creates.length, 1, 'concurrent callers share the failed load');

  const retried = await registry.backend('file');
  const again = await registry.backend('file');

  assert.equal(file.creates.length, 2);
  assert.equal(again, retried);
});
