import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { DsvError } from '../errors.ts';
import type { BackendDefinition } from '../backends/backend.ts';
import { parseSettings } from './settings.ts';

const sentinel = 'SENTINEL-settings-7f3a9c';

function fakeDefinition(name: string, settings: BackendDefinition['settings'] = {}): BackendDefinition {
  return {
    name,
    description: `fake backend ${name}`,
    options: {},
    settings,
    create: async () => {
      throw new Error('not used by settings tests');
    },
  };
}

const file = fakeDefinition('file');
const cloud = fakeDefinition('cloud', {
  DSV_CLOUD_REGION: z.string().regex(/^[a-z]+-\d$/, 'must look like "eu-1"').default('eu-1'),
  CLOUD_ENDPOINT_URL: z.string().regex(/^https?:\/\//, 'must be an http(s) URL').optional(),
});
const backends = [file, cloud];

/** Runs parseSettings and returns the INVALID_SETTING message it throws. */
function invalidSettingsMessage(env: Record<string, string | undefined>, definitions = backends): string {
  try {
    parseSettings(env, definitions);
  } catch (error) {
    assert.ok(error instanceof DsvError, `expected a DsvError, got ${String(error)}`);
    assert.equal(error.code, 'INVALID_SETTING');
    return error.message;
  }
  assert.fail(`parseSettings accepted ${JSON.stringify(env)}`);
}

test('parseSettings applies defaults', () => {
  const settings = parseSettings({}, backends);

  assert.equal(settings.logLevel, 'info');
  assert.equal(settings.defaultBackend, 'file');
  assert.equal(settings.socket, '/run/docker/plugins/dsv.sock');
  assert.equal(settings.stateDir, '/var/lib/dsv/state');
  assert.equal(settings.mountDir, '/run/dsv/volumes');
  assert.equal(settings.tmpfsSizeMb, 64);
  assert.equal(settings.fetchTimeoutMs, 20_000);
  assert.equal(settings.env.DSV_CLOUD_REGION, 'eu-1');
});

test('parseSettings treats empty strings as unset', () => {
  const env = {
    DSV_LOG_LEVEL: '',
    DSV_DEFAULT_BACKEND: '',
    DSV_SOCKET: '',
    DSV_STATE_DIR: '',
    DSV_MOUNT_DIR: '',
    DSV_TMPFS_SIZE_MB: '',
    DSV_FETCH_TIMEOUT_SECONDS: '',
    DSV_CLOUD_REGION: '',
    CLOUD_ENDPOINT_URL: '',
  };

  assert.deepEqual(parseSettings(env, backends), parseSettings({}, backends));
});

test('parseSettings reads every core setting', () => {
  const settings = parseSettings(
    {
      DSV_LOG_LEVEL: 'debug',
      DSV_DEFAULT_BACKEND: 'cloud',
      DSV_SOCKET: '/run/dsv.sock',
      DSV_STATE_DIR: '/state',
      DSV_MOUNT_DIR: '/mounts',
      DSV_TMPFS_SIZE_MB: '128',
      DSV_FETCH_TIMEOUT_SECONDS: '7',
    },
    backends,
  );

  assert.equal(settings.logLevel, 'debug');
  assert.equal(settings.defaultBackend, 'cloud');
  assert.equal(settings.socket, '/run/dsv.sock');
  assert.equal(settings.stateDir, '/state');
  assert.equal(settings.mountDir, '/mounts');
  assert.equal(settings.tmpfsSizeMb, 128);
  assert.equal(settings.fetchTimeoutMs, 7_000);
});

test('parseSettings rejects unknown DSV_ variables only', () => {
  const message = invalidSettingsMessage({ DSV_LOG_LEVLE: 'debug', PATH: '/usr/bin', HOME: '/root' });

  assert.match(message, /DSV_LOG_LEVLE: unknown setting/);
  assert.doesNotMatch(message, /PATH|HOME/);
});

test('parseSettings passes only declared variables to backends', () => {
  const settings = parseSettings({ PATH: '/usr/bin', CLOUD_ENDPOINT_URL: 'http://127.0.0.1:1' }, backends);

  assert.equal(settings.env.CLOUD_ENDPOINT_URL, 'http://127.0.0.1:1');
  assert.equal(settings.env.DSV_FETCH_TIMEOUT_SECONDS, '20');
  assert.equal(Object.hasOwn(settings.env, 'PATH'), false);
});

test('parseSettings reports every problem in one message', () => {
  const message = invalidSettingsMessage({
    DSV_TYPO: 'x',
    DSV_LOG_LEVEL: 'verbose',
    DSV_SOCKET: 'dsv.sock',
    DSV_TMPFS_SIZE_MB: 'big',
    DSV_FETCH_TIMEOUT_SECONDS: '26',
    DSV_CLOUD_REGION: 'Europe',
  });

  for (const name of ['DSV_TYPO', 'DSV_LOG_LEVEL', 'DSV_SOCKET', 'DSV_TMPFS_SIZE_MB', 'DSV_FETCH_TIMEOUT_SECONDS', 'DSV_CLOUD_REGION']) {
    assert.ok(message.includes(`${name}: `), `${name} missing from: ${message}`);
  }
});

test('parseSettings reports an unknown default backend with other problems', () => {
  const message = invalidSettingsMessage({ DSV_LOG_LEVEL: 'verbose', DSV_DEFAULT_BACKEND: 'nope' });

  assert.match(message, /DSV_LOG_LEVEL: /);
  assert.match(message, /DSV_DEFAULT_BACKEND: unknown backend "nope"/);
});

test('parseSettings accepts every log level', () => {
  for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
    assert.equal(parseSettings({ DSV_LOG_LEVEL: level }, backends).logLevel, level);
  }
});

test('parseSettings rejects a bad log level', () => {
  assert.match(invalidSettingsMessage({ DSV_LOG_LEVEL: 'verbose' }), /DSV_LOG_LEVEL: /);
});

for (const value of ['1.5', '20s', '-5', ' 20', '1e2', '0x10', '+20', 'twenty']) {
  test(`parseSettings rejects timeout ${JSON.stringify(value)}`, () => {
    assert.match(invalidSettingsMessage({ DSV_FETCH_TIMEOUT_SECONDS: value }), /DSV_FETCH_TIMEOUT_SECONDS: must be a whole number/);
  });
}

for (const value of ['0', '26', '99999999999999999999']) {
  test(`parseSettings rejects timeout out of range ${value}`, () => {
    assert.match(invalidSettingsMessage({ DSV_FETCH_TIMEOUT_SECONDS: value }), /DSV_FETCH_TIMEOUT_SECONDS: Too (small|big)/);
  });
}

test('parseSettings accepts timeout range edges', () => {
  assert.equal(parseSettings({ DSV_FETCH_TIMEOUT_SECONDS: '1' }, backends).fetchTimeoutMs, 1_000);
  assert.equal(parseSettings({ DSV_FETCH_TIMEOUT_SECONDS: '25' }, backends).fetchTimeoutMs, 25_000);
});

test('parseSettings checks the tmpfs size range', () => {
  assert.match(invalidSettingsMessage({ DSV_TMPFS_SIZE_MB: '0' }), /DSV_TMPFS_SIZE_MB: /);
  assert.match(invalidSettingsMessage({ DSV_TMPFS_SIZE_MB: '65537' }), /DSV_TMPFS_SIZE_MB: /);
  assert.equal(parseSettings({ DSV_TMPFS_SIZE_MB: '65536' }, backends).tmpfsSizeMb, 65_536);
});

for (const name of ['DSV_SOCKET', 'DSV_STATE_DIR', 'DSV_MOUNT_DIR']) {
  test(`parseSettings rejects a relative ${name}`, () => {
    for (const value of ['run/dsv', './run/dsv', '~/dsv']) {
      assert.match(invalidSettingsMessage({ [name]: value }), new RegExp(`${name}: must be an absolute path`));
    }
  });
}

test('parseSettings rejects an unknown default backend', () => {
  const message = invalidSettingsMessage({ DSV_DEFAULT_BACKEND: 'nope' });

  assert.match(message, /DSV_DEFAULT_BACKEND: unknown backend "nope"/);
  assert.match(message, /known backends: file, cloud/);
});

test('parseSettings validates backend settings', () => {
  const settings = parseSettings({ DSV_CLOUD_REGION: 'us-2' }, backends);

  assert.equal(settings.env.DSV_CLOUD_REGION, 'us-2');
  assert.match(invalidSettingsMessage({ DSV_CLOUD_REGION: 'Europe' }), /DSV_CLOUD_REGION: must look like "eu-1"/);
  assert.match(invalidSettingsMessage({ CLOUD_ENDPOINT_URL: 'ftp://x' }), /CLOUD_ENDPOINT_URL: must be an http\(s\) URL/);
});

test('parseSettings rejects settings of unregistered backends', () => {
  assert.match(invalidSettingsMessage({ DSV_CLOUD_REGION: 'us-2' }, [file]), /DSV_CLOUD_REGION: unknown setting/);
});

test('parseSettings keeps setting values out of errors', () => {
  const message = invalidSettingsMessage({ DSV_LOG_LEVEL: sentinel, DSV_TYPO: sentinel, DSV_CLOUD_REGION: sentinel });

  assert.equal(message.includes(sentinel), false, message.replaceAll(sentinel, '<sentinel>'));
});

test('parseSettings returns frozen settings', () => {
  const settings = parseSettings({}, backends);

  assert.ok(Object.isFrozen(settings));
  assert.ok(Object.isFrozen(settings.env));
  assert.throws(() => {
    (settings as { logLevel: string }).logLevel = 'trace';
  }, TypeError);
  assert.throws(() => {
    (settings.env as Record<string, string>).DSV_LOG_LEVEL = 'trace';
  }, TypeError);
});
