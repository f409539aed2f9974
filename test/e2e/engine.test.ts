/**
 * Checks the end-to-end harness itself: a private engine starts, runs a container from the
 * imported busybox image, accepts a managed plugin built from a folder, and leaves nothing
 * behind when stopped.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { e2eSkipReason, startEngine } from './engine.ts';
import { importBusybox } from './plugin.ts';

/** Builds a plugin folder whose rootfs is just busybox; it is created, never enabled. */
async function writeTrivialPlugin(folder: string): Promise<void> {
  await mkdir(path.join(folder, 'rootfs', 'bin'), { recursive: true });
  await copyFile('/bin/busybox', path.join(folder, 'rootfs', 'bin', 'busybox'));
  await symlink('busybox', path.join(folder, 'rootfs', 'bin', 'sh'));
  const config = {
    description: 'harness check',
    documentation: 'none',
    entrypoint: ['/bin/busybox', 'sleep', '3600'],
    interface: { types: ['docker.volumedriver/1.0'], socket: 'trivial.sock' },
    network: { type: 'host' },
  };
  await writeFile(path.join(folder, 'config.json'), JSON.stringify(config));
}

describe('private engine harness', { skip: e2eSkipReason() }, () => {
  test('engine runs containers and plugins, then cleans up', async () => {
    const engine = await startEngine();
    let daemonPid = 0;
    try {
      daemonPid = Number(await readFile(path.join(engine.dir, 'docker.pid'), 'utf8'));
      await importBusybox(engine);

      const echoed = await engine.docker('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo harness-ok');
      assert.equal(echoed.code, 0, echoed.stderr);
      assert.equal(echoed.stdout, 'harness-ok\n');

      const pluginFolder = path.join(engine.dir, 'trivial-plugin');
      await writeTrivialPlugin(pluginFolder);
      await engine.dockerOk('plugin', 'create', 'trivial', pluginFolder);
      const listed = await engine.dockerOk('plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}');
      assert.equal(listed, 'trivial:latest false');
    } finally {
      await engine.stop();
    }

    assert.ok(daemonPid > 0, 'dockerd wrote its pidfile');
    assert.throws(() => process.kill(daemonPid, 0), 'dockerd is still running after stop()');
    assert.equal(existsSync(engine.dir), false, `${engine.dir} was not removed`);
  });
});
