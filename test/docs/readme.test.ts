/** Keeps the README's option and setting tables in step with the backends dsv ships. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { backendDefinitions } from '../../src/backends/definitions.ts';
import { coreSettingsShape } from '../../src/settings/settings.ts';
import { commonOptionSpecs } from '../../src/volumes/options.ts';

const readme = await readFile(path.resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** Rows of the volume options table as [option, backends] pairs. */
function optionRows(): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const match of readme.matchAll(/^\| `([a-z]+)` \| ([a-z, -]+) \|/gm)) rows.push([match[1]!, match[2]!]);
  return rows;
}

describe('README', () => {
  it('documents every common option', () => {
    for (const option of Object.keys(commonOptionSpecs)) {
      assert.ok(optionRows().some(([name, backends]) => name === option && backends === 'all'), option);
    }
  });

  it('documents every backend option', () => {
    for (const definition of backendDefinitions) {
      for (const option of Object.keys(definition.options)) {
        const documented = optionRows().some(([name, backends]) => name === option && backends.split(', ').includes(definition.name));
        assert.ok(documented, `option "${option}" of backend ${definition.name} is missing from the options table`);
      }
    }
  });

  it('documents no option a backend lacks', () => {
    for (const [option, backends] of optionRows()) {
      if (backends === 'all') continue;
      for (const backend of backends.split(', ')) {
        const definition = backendDefinitions.find((candidate) => candidate.name === backend);
        assert.ok(definition, `the options table names an unknown backend "${backend}"`);
        assert.ok(Object.hasOwn(definition.options, option), `backend ${backend} has no option "${option}"`);
      }
    }
  });

  it('has a section for every backend', () => {
    for (const definition of backendDefinitions) {
      assert.match(readme, new RegExp(`^### ${definition.name}(:|$)`, 'm'), definition.name);
    }
  });

  it('names every setting', () => {
    const settings = [
      ...Object.keys(coreSettingsShape),
      ...backendDefinitions.flatMap((definition) => Object.keys(definition.settings)),
    ];
    for (const setting of settings) assert.ok(readme.includes(`\`${setting}\``), `setting ${setting} is missing`);
  });
});
