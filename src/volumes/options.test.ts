import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackendRegistry } from '../backends/registry.ts';
import { DsvError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { MemoryBackend, memoryBackendDefinition } from '../../test/support/memory-backend.ts';
import { describeOptions, parseVolumeOptions, type VolumeOptions } from './options.ts';

const registry = new BackendRegistry([memoryBackendDefinition(new MemoryBackend())], {}, createLogger('silent'));

function parse(raw: Record<string, string>, volume = 'vol'): VolumeOptions {
  return parseVolumeOptions(raw, { volume, defaultBackend: 'memory', definition: (name) => registry.definition(name) });
}

function problem(raw: Record<string, string>): string {
  try {
    parse(raw);
  } catch (error) {
    assert.ok(error instanceof DsvError);
    assert.equal(error.code, 'INVALID_OPTION');
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('parseVolumeOptions', () => {
  it('fills defaults', () => {
    assert.deepEqual(parse({}, 'db-password'), {
      backend: 'memory',
      secret: 'db-password',
      key: undefined,
      mode: 0o400,
      uid: 0,
      gid: 0,
      backendOptions: {},
    });
  });

  it('reads every common option', () => {
    const options = parse({ backend: 'memory', secret: 'prod/db/password', key: 'a.b', mode: '0640', uid: '1000', gid: '2000' });
    assert.equal(options.secret, 'prod/db/password');
    assert.equal(options.key, 'a.b');
    assert.equal(options.mode, 0o640);
    assert.equal(options.uid, 1000);
    assert.equal(options.gid, 2000);
  });

  it('accepts modes with and without a leading zero', () => {
    assert.equal(parse({ mode: '440' }).mode, 0o440);
    assert.equal(parse({ mode: '0777' }).mode, 0o777);
    assert.equal(parse({ mode: '000' }).mode, 0);
  });

  it('rejects bad modes', () => {
    for (const mode of ['999', '04755', '0x1ff', '', 'rw', '7']) {
      assert.match(problem({ mode }), /option "mode" is invalid/, mode);
    }
  });

  it('rejects bad ids', () => {
    assert.match(problem({ uid: '-1' }), /option "uid" is invalid/);
    assert.match(problem({ gid: 'root' }), /option "gid" is invalid/);
    assert.match(problem({ uid: '4294967295' }), /^option "uid" is invalid: "4294967295" must be a numeric user id from 0 to 4294967294$/);
  });

  it('keeps backend options and checks them', () => {
    assert.deepEqual(parse({ version: '3' }).backendOptions, { version: '3' });
    assert.match(problem({ version: 'latest' }), /option "version" is invalid: "latest" must be a number/);
  });

  it('rejects unknown options listing what the backend accepts', () => {
    assert.equal(
      problem({ stage: 'AWSCURRENT' }),
      'unknown option "stage": backend memory accepts backend, secret, key, mode, uid, gid, version',
    );
  });

  it('reports every problem at once', () => {
    const message = problem({ mode: '9', uid: 'x', colour: 'red' });
    assert.match(message, /"mode"/);
    assert.match(message, /"uid"/);
    assert.match(message, /"colour"/);
  });

  it('rejects an unknown backend naming the known ones', () => {
    assert.match(problem({ backend: 'nope' }), /unknown backend "nope"; known backends: memory/);
    assert.match(problem({ backend: 'Bad Name' }), /option "backend" is invalid/);
  });

  it('rejects empty and control characters in references', () => {
    assert.match(problem({ secret: '' }), /option "secret" is invalid/);
    assert.match(problem({ secret: 'a\nb' }), /must not contain control characters/);
    assert.match(problem({ key: '' }), /option "key" is invalid/);
  });

  it('describes options for inspect', () => {
    assert.deepEqual(describeOptions(parse({ mode: '0440', key: 'k', version: '2' }, 'v')), {
      backend: 'memory',
      secret: 'v',
      mode: '0440',
      uid: '0',
      gid: '0',
      key: 'k',
      version: '2',
    });
  });
});
