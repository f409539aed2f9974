import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointFor, isLoopbackHost, parseEndpointUrl } from './endpoint.ts';

test('endpoint URL with a port', () => {
  assert.deepEqual(parseEndpointUrl('http://127.0.0.1:8085'), { host: '127.0.0.1', port: 8085, protocol: 'http' });
  assert.deepEqual(parseEndpointUrl('http://[::1]:9000/'), { host: '::1', port: 9000, protocol: 'http' });
});

test('endpoint URL default ports', () => {
  assert.deepEqual(parseEndpointUrl('https://secretmanager.p.googleapis.com'), {
    host: 'secretmanager.p.googleapis.com',
    port: 443,
    protocol: 'https',
  });
  assert.deepEqual(parseEndpointUrl('http://emulator'), { host: 'emulator', port: 80, protocol: 'http' });
});

test('endpoint URL rejects paths, queries, users and other schemes', () => {
  for (const value of [
    'http://127.0.0.1:8085/v1',
    'http://127.0.0.1:8085?x=1',
    'http://user:pw@127.0.0.1:8085',
    'grpc://127.0.0.1:8085',
    '127.0.0.1:8085',
    '',
  ]) {
    assert.equal(parseEndpointUrl(value), undefined, value);
  }
});

test('global and regional endpoints', () => {
  assert.deepEqual(endpointFor(undefined, undefined), { host: 'secretmanager.googleapis.com', port: 443, protocol: 'https' });
  assert.deepEqual(endpointFor('us-central1', undefined), {
    host: 'secretmanager.us-central1.rep.googleapis.com',
    port: 443,
    protocol: 'https',
  });
});

test('override wins for every location', () => {
  const override = { host: '127.0.0.1', port: 8085, protocol: 'http' } as const;

  assert.equal(endpointFor(undefined, override), override);
  assert.equal(endpointFor('us-central1', override), override);
});

test('loopback hosts', () => {
  assert.ok(isLoopbackHost('127.0.0.1'));
  assert.ok(isLoopbackHost('127.1.2.3'));
  assert.ok(isLoopbackHost('localhost'));
  assert.ok(isLoopbackHost('::1'));
  assert.ok(!isLoopbackHost('10.0.0.1'));
  assert.ok(!isLoopbackHost('127.0.0.1.example.com'));
});
