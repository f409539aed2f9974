/**
 * The `file` backend: secrets are files in one host folder, for development without a cloud
 * account. The secret name is a path relative to that folder; nothing outside it can be read.
 */
import { z } from 'zod';
import type { BackendDefinition } from '../backend.ts';

export const fileBackend: BackendDefinition = {
  name: 'file',
  description: 'Files in a host folder (DSV_FILES_DIR); for development and tests.',
  options: {},
  settings: {
    DSV_FILES_DIR: z
      .string()
      .regex(/^\//, 'must be an absolute path')
      .default('/var/lib/dsv/files')
      .describe('folder of the file backend; the managed plugin mounts the files mount here'),
  },
  async create(environment) {
    const { FileBackend } = await import('./file-backend.ts');
    return new FileBackend(environment.env.DSV_FILES_DIR ?? '/var/lib/dsv/files');
  },
};
