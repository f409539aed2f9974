#!/usr/bin/env node
/**
 * The dsv command line: `dsv serve` runs the plugin daemon, `dsv backends` lists the backends with
 * their options and settings.
 */
import { backendDefinitions } from '../backends/definitions.ts';
import { commonOptionSpecs } from '../volumes/options.ts';
import { serve } from './serve.ts';

const usage = `Usage: dsv <command>

Commands:
  serve      Run the Docker volume plugin daemon (settings come from DSV_* environment variables)
  backends   List the secrets backends with their volume options and settings
  help       Show this text
`;

function listBackends(): string {
  const lines: string[] = ['Options every backend accepts:'];
  for (const [name, spec] of Object.entries(commonOptionSpecs)) lines.push(`  ${name.padEnd(10)} ${spec.description}`);
  for (const definition of backendDefinitions) {
    lines.push('', `${definition.name}: ${definition.description}`);
    const options = Object.entries(definition.options);
    if (options.length > 0) lines.push('  options:');
    for (const [name, spec] of options) lines.push(`    ${name.padEnd(10)} ${spec.description}`);
    const settings = Object.keys(definition.settings);
    if (settings.length > 0) lines.push(`  settings: ${settings.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(argv: readonly string[]): Promise<void> {
  const [command] = argv;
  switch (command) {
    case 'serve':
      await serve(process.env);
      return;
    case 'backends':
      process.stdout.write(listBackends());
      return;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return;
    default:
      process.stderr.write(`dsv: unknown command "${command ?? ''}"\n\n${usage}`);
      process.exitCode = 2;
  }
}

await main(process.argv.slice(2));
