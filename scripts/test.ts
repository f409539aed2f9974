/**
 * `npm test`: typecheck, unit tests (package.json's test:unit), then end-to-end tests on a
 * private Docker engine (test:e2e). Every stage runs even after a failure, so one run shows
 * everything that is broken; the exit code is non-zero if any stage failed.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repositoryRoot } from './build.ts';

interface StageResult {
  readonly name: string;
  readonly ok: boolean;
  readonly summary: string;
}

/** Splits a package.json script into arguments; it understands double quotes, nothing more. */
export function splitCommand(command: string): string[] {
  const args: string[] = [];
  for (const match of command.matchAll(/"([^"]*)"|(\S+)/g)) args.push(match[1] ?? match[2] ?? '');
  return args;
}

/** Reads a `node ...` script from package.json and returns it for the running Node binary. */
async function nodeScript(name: string): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(repositoryRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const script = pkg.scripts[name];
  const args = script === undefined ? [] : splitCommand(script);
  if (args[0] !== 'node') throw new Error(`package.json script "${name}" should start with "node": ${script}`);
  // npm run puts node_modules/.bin first on PATH, so process.execPath is the Node 24 there.
  return [process.execPath, ...args.slice(1)];
}

/** Runs a command with its output passed through, and returns the exit code and the output. */
function runStage(command: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command;
    if (file === undefined) throw new Error('empty command');
    const env = { ...process.env, ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}) };
    const child = spawn(file, args, { cwd: repositoryRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Reads the totals node --test prints last (spec reporter "ℹ pass 3", TAP "# pass 3"). */
export function testCounts(output: string): string | undefined {
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  const counts = new Map<string, number>();
  for (const match of plain.matchAll(/^(?:ℹ|#) (tests|pass|fail|skipped|todo|cancelled) (\d+)$/gm)) {
    counts.set(match[1] ?? '', Number(match[2]));
  }
  if (!counts.has('tests')) return undefined;
  const parts = [`${counts.get('pass') ?? 0} passed`, `${counts.get('fail') ?? 0} failed`];
  for (const kind of ['skipped', 'todo', 'cancelled']) {
    if ((counts.get(kind) ?? 0) > 0) parts.push(`${counts.get(kind)} ${kind}`);
  }
  return parts.join(', ');
}

async function stage(name: string, command: readonly string[]): Promise<StageResult> {
  console.log(`\n=== ${name}: ${command.map((arg) => path.relative(repositoryRoot, arg) || arg).join(' ')}`);
  const started = performance.now();
  const { code, output } = await runStage(command);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const counts = testCounts(output);
  const status = code === 0 ? 'ok' : `FAILED (exit code ${code})`;
  const summary = `${name}: ${status}${counts === undefined ? '' : `, ${counts}`} in ${seconds} s`;
  console.log(summary);
  return { name, ok: code === 0, summary };
}

async function main(): Promise<number> {
  const tsc = path.join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const results = [
    await stage('typecheck', [process.execPath, tsc, '--noEmit', '-p', '.']),
    await stage('unit', await nodeScript('test:unit')),
    await stage('e2e', await nodeScript('test:e2e')),
  ];

  console.log('\n=== summary');
  for (const result of results) console.log(result.summary);
  return results.every((result) => result.ok) ? 0 : 1;
}

if (import.meta.main) {
  process.exitCode = await main();
}
