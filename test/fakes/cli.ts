/**
 * `npm run fake -- NAME [--port N] [--credentials DIR]`: runs one vendor fake on 127.0.0.1 so that
 * dsv can be tried without a cloud account. It writes the fake's credential files into DIR and
 * prints the plugin settings and the commands that mount its demo secret.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fakes } from './index.ts';

const usage = `Usage: npm run fake -- <${Object.keys(fakes).join('|')}> [--port N] [--credentials DIR]

Runs a fake secrets manager on 127.0.0.1 until Ctrl-C, or until "kill PID" with the pid it prints.
  --port N           port to listen on (default: a free one)
  --credentials DIR  folder for the fake's credential files (default: .tmp/fake-NAME/credentials);
                     hand it to the plugin with "docker plugin set dsv credentials.source=DIR"
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { port: { type: 'string' }, credentials: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [name] = positionals;
  const start = name === undefined ? undefined : fakes[name];
  if (values.help === true || start === undefined) {
    process.stderr.write(name === undefined || values.help === true ? usage : `unknown fake "${name}"\n\n${usage}`);
    return values.help === true ? 0 : 2;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    process.stderr.write(`--port must be a port number from 0 to 65535, not "${values.port}"\n`);
    return 2;
  }

  const fake = await start(port === undefined ? {} : { port });
  const credentials = path.resolve(values.credentials ?? path.join('.tmp', `fake-${name}`, 'credentials'));
  for (const [file, contents] of Object.entries(fake.credentialFiles)) {
    const target = path.join(credentials, file);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, contents, { mode: 0o600 });
  }

  const pluginSettings = Object.entries(fake.settings('/etc/dsv/credentials')).map(([key, value]) => `${key}=${value}`);
  const hostSettings = Object.entries(fake.settings(credentials)).map(([key, value]) => `${key}=${value}`);
  const options = Object.entries({ backend: fake.backend, secret: fake.demoSecret, ...fake.demoOptions })
    .map(([key, value]) => `-o ${key}=${value}`)
    .join(' ');
  // Installed before the output, because a reader may send SIGTERM as soon as it sees the pid.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write(
    [
      // The pid is this node process: "kill <pid>" stops the fake, while killing npm would not.
      `${name} fake listening on ${fake.url} (pid ${process.pid}); credential files in ${credentials}`,
      '',
      'Managed plugin (settings change only while it is disabled, and -f disables it while volumes exist):',
      `  docker plugin disable -f dsv && docker plugin set dsv credentials.source=${credentials} ${pluginSettings.join(' ')} && docker plugin enable dsv`,
      'Host daemon:',
      `  env ${hostSettings.join(' ')} npm run dsv -- serve`,
      'Then:',
      `  docker volume create -d dsv ${options} demo-${name}`,
      `  docker run --rm --network none --volume-driver dsv -v demo-${name}:/run/secrets/demo:ro busybox cat /run/secrets/demo`,
      '',
      `Press Ctrl-C or run "kill ${process.pid}" to stop.`,
      '',
    ].join('\n'),
  );

  await stopped;
  await fake.close();
  return 0;
}

process.exitCode = await main();
