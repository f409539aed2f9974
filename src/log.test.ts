import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, type Logger } from './log.ts';

const sentinel = 'SENTINEL-log-9e2c41';

/** Creates a logger at `level` that appends each write to `lines`. */
function capture(level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger(level, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** Shows where the sentinel leaked without printing it into the test output. */
function maskSentinel(output: string): string {
  return output.replaceAll(sentinel, '<sentinel>');
}

function parseRecords(lines: string[]): Array<Record<string, unknown>> {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('createLogger writes one JSON line per call', () => {
  const { logger, lines } = capture();

  logger.info({ volume: 'db-password', backend: 'file' }, 'volume mounted');
  logger.error('mount failed');

  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.ok(line.endsWith('\n'), `line without newline: ${line}`);
    assert.equal(line.indexOf('\n'), line.length - 1, `line break inside a record: ${line}`);
  }
  const [mounted, failed] = parseRecords(lines);
  assert.equal(mounted?.msg, 'volume mounted');
  assert.equal(mounted?.level, 30);
  assert.equal(mounted?.service, 'dsv');
  assert.equal(mounted?.volume, 'db-password');
  assert.equal(mounted?.backend, 'file');
  assert.equal(typeof mounted?.time, 'string');
  assert.equal(new Date(mounted?.time as string).toISOString(), mounted?.time);
  assert.equal(failed?.level, 50);
});

test('createLogger drops records below the level', () => {
  const { logger, lines } = capture('warn');

  logger.info('hidden');
  logger.debug('hidden');
  logger.warn('shown');

  assert.deepEqual(
    parseRecords(lines).map((record) => record.msg),
    ['shown'],
  );
});

test('createLogger at silent writes nothing', () => {
  const { logger, lines } = capture('silent');

  logger.fatal({ options: { token: sentinel } }, 'not written');

  assert.deepEqual(lines, []);
});

test('createLogger redacts credential fields one level down', () => {
  const { logger, lines } = capture();

  logger.info(
    {
      options: { password: sentinel, token: sentinel, keep: 'visible' },
      credentials: { secretAccessKey: sentinel, clientSecret: sentinel },
    },
    'backend configured',
  );

  const output = lines.join('');
  assert.equal(output.includes(sentinel), false, maskSentinel(output));
  const [record] = parseRecords(lines);
  assert.deepEqual(record?.options, { password: '[redacted]', token: '[redacted]', keep: 'visible' });
  assert.deepEqual(record?.credentials, { secretAccessKey: '[redacted]', clientSecret: '[redacted]' });
});

test('createLogger child loggers keep redaction', () => {
  const { logger, lines } = capture();

  logger.child({ backend: 'vault' }).warn({ auth: { token: sentinel } }, 'token renewal failed');

  const output = lines.join('');
  assert.equal(output.includes(sentinel), false, maskSentinel(output));
  assert.equal(parseRecords(lines)[0]?.backend, 'vault');
});

test('createLogger redacts credential fields at any depth', () => {
  const { logger, lines } = capture();

  logger.info({ token: sentinel, password: sentinel }, 'top level');
  logger.info({ request: { auth: { token: sentinel } } }, 'two levels down');

  const output = lines.join('');
  assert.equal(output.includes(sentinel), false, maskSentinel(output));
});
