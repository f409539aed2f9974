/** The daemon as `dsv serve` wires it: settings, the file backend, tmpfs check, socket, restart. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon } from '../../src/cli/serve.ts';
import { DsvError } from '../../src/errors.ts';
import { isTmpfs } from '../../src/volumes/tmpfs.ts';
import { captureLog } from '../support/log-capture.ts';
import { callPlugin } from '../support/plugin-client.ts';
import { diskTempDir, removeDir, tmpfsTempDir } from '../support/temp.ts';

const directories: string[] = [];

/** Owner options this process may set, so the tests also run without root. */
const ownOptions = { secret: 'prod/db/password', uid: String(process.getuid?.() ?? 0), gid: String(process.getgid?.() ?? 0) };
after(async () => {
  for (const directory of directories) await removeDir(directory);
});

async function environment(): Promise<Record<string, string>> {
  const state = await diskTempDir('dsv-daemon');
  const files = await tmpfsTempDir('dsv-daemon-files');
  const mounts = await tmpfsTempDir('dsv-daemon-mounts');
  directories.push(state, files, mounts);
  await mkdir(path.join(files, 'prod', 'db'), { recursive: true });
  await writeFile(path.join(files, 'prod', 'db', 'password'), 'file-secret\n');
  return {
    DSV_SOCKET: path.join(state, 'dsv.sock'),
    DSV_STATE_DIR: path.join(state, 'state'),
    DSV_MOUNT_DIR: mounts,
    DSV_FILES_DIR: files,
    DSV_LOG_LEVEL: 'silent',
  };
}

describe('startDaemon', () => {
  it('serves the file backend and survives a restart', async () => {
    const env = await environment();
    const socket = env.DSV_SOCKET!;
    const first = await startDaemon(env, captureLog().logger);
    let file: string;
    try {
      assert.deepEqual((await callPlugin(socket, 'VolumeDriver.Create', { Name: 'pw', Opts: ownOptions })).body, {});
      file = String((await callPlugin(socket, 'VolumeDriver.Mount', { Name: 'pw', ID: 'a' })).body.Mountpoint);
      assert.equal(await readFile(file, 'utf8'), 'file-secret\n');
    } finally {
      await first.stop();
    }
    await assert.rejects(access(socket), { code: 'ENOENT' });
    await assert.rejects(access(file), { code: 'ENOENT' });

    const second = await startDaemon(env, captureLog().logger);
    try {
      const volume = (await callPlugin(socket, 'VolumeDriver.Get', { Name: 'pw' })).body.Volume as Record<string, unknown>;
      assert.equal(volume.Name, 'pw');
      assert.equal(volume.Mountpoint, undefined, 'nothing counts as mounted after a restart');
      const again = String((await callPlugin(socket, 'VolumeDriver.Mount', { Name: 'pw', ID: 'a' })).body.Mountpoint);
      assert.equal(await readFile(again, 'utf8'), 'file-secret\n');
    } finally {
      await second.stop();
    }
  });

  it('stops on a bad setting naming it', async () => {
    const env = { ...(await environment()), DSV_FETCH_TIMEOUT_SECONDS: '500', DSV_LOG_LEVL: 'debug' };
    await assert.rejects(startDaemon(env, captureLog().logger), (error: unknown) => {
      assert.ok(error instanceof DsvError);
      assert.equal(error.code, 'INVALID_SETTING');
      assert.match(error.message, /DSV_LOG_LEVL: unknown setting/);
      assert.match(error.message, /DSV_FETCH_TIMEOUT_SECONDS/);
      return true;
    });
  });

  it('refuses a mount folder off tmpfs when it cannot mount one', { skip: process.getuid?.() === 0 && 'root can mount a tmpfs' }, async () => {
    const env = { ...(await environment()), DSV_MOUNT_DIR: await diskTempDir('dsv-not-tmpfs') };
    directories.push(env.DSV_MOUNT_DIR);
    await assert.rejects(startDaemon(env, captureLog().logger), /is not on tmpfs and mounting one there failed/);
  });

  it('mounts its own tmpfs and unmounts it at stop', { skip: process.getuid?.() !== 0 && 'mounting a tmpfs needs root' }, async () => {
    const mountDir = await diskTempDir('dsv-own-tmpfs');
    directories.push(mountDir);
    assert.equal(await isTmpfs(mountDir), false);
    const daemon = await startDaemon({ ...(await environment()), DSV_MOUNT_DIR: mountDir }, captureLog().logger);
    try {
      assert.equal(await isTmpfs(mountDir), true);
    } finally {
      await daemon.stop();
    }
    assert.equal(await isTmpfs(mountDir), false);
  });

  it('refuses to start beside a running daemon', async () => {
    const env = await environment();
    const first = await startDaemon(env, captureLog().logger);
    try {
      await callPlugin(env.DSV_SOCKET!, 'VolumeDriver.Create', { Name: 'pw', Opts: ownOptions });
      const file = String((await callPlugin(env.DSV_SOCKET!, 'VolumeDriver.Mount', { Name: 'pw', ID: 'a' })).body.Mountpoint);

      await assert.rejects(startDaemon(env, captureLog().logger), /DSV_SOCKET .* is in use by another process/);
      assert.equal(await readFile(file, 'utf8'), 'file-secret\n', "the second daemon removed the first one's file");
      assert.equal((await callPlugin(env.DSV_SOCKET!, 'Plugin.Activate')).status, 200);
    } finally {
      await first.stop();
    }
  });

  it('refuses a second daemon on the same folders', async () => {
    const env = await environment();
    const first = await startDaemon(env, captureLog().logger);
    try {
      await callPlugin(env.DSV_SOCKET!, 'VolumeDriver.Create', { Name: 'pw', Opts: ownOptions });
      const file = String((await callPlugin(env.DSV_SOCKET!, 'VolumeDriver.Mount', { Name: 'pw', ID: 'a' })).body.Mountpoint);

      const otherSocket = { ...env, DSV_SOCKET: `${env.DSV_SOCKET!}.other` };
      await assert.rejects(startDaemon(otherSocket, captureLog().logger), /DSV_STATE_DIR .* is in use by process \d+/);
      const otherState = { ...otherSocket, DSV_STATE_DIR: `${env.DSV_STATE_DIR!}-other` };
      await assert.rejects(startDaemon(otherState, captureLog().logger), /DSV_MOUNT_DIR .* is in use by process \d+/);
      assert.equal(await readFile(file, 'utf8'), 'file-secret\n');
    } finally {
      await first.stop();
    }
    const again = await startDaemon(env, captureLog().logger);
    await again.stop();
  });

  it('never deletes a regular file at the socket path', async () => {
    const env = await environment();
    await writeFile(env.DSV_SOCKET!, 'precious');
    await assert.rejects(startDaemon(env, captureLog().logger), /DSV_SOCKET .* exists and is not a socket/);
    assert.equal(await readFile(env.DSV_SOCKET!, 'utf8'), 'precious');
  });
});
