/**
 * Bundles the daemon into dist/dsv.js with esbuild. Dependencies stay external (the plugin image
 * ships production node_modules), and code splitting keeps each backend's lazy `import()` in its
 * own chunk under dist/chunks/, so a backend's SDK loads only when a volume uses it.
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import path from 'node:path';

/** Repository root, whatever the working directory. */
export const repositoryRoot = path.resolve(import.meta.dirname, '..');

/** Bundles src/cli/main.ts into dist/ and returns the entry file's path. */
export async function buildDist(options: { quiet?: boolean } = {}): Promise<string> {
  const outdir = path.join(repositoryRoot, 'dist');
  // Chunk names carry content hashes, so old chunks would pile up without a clean start.
  await rm(outdir, { recursive: true, force: true });

  const started = performance.now();
  const result = await build({
    absWorkingDir: repositoryRoot,
    entryPoints: { dsv: 'src/cli/main.ts' },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });

  if (options.quiet !== true) {
    const outputs = Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'));
    const milliseconds = Math.round(performance.now() - started);
    console.log(`build: wrote ${outputs.length} files to dist/ in ${milliseconds} ms`);
  }
  return path.join(outdir, 'dsv.js');
}

if (import.meta.main) {
  await buildDist();
}
