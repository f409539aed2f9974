/**
 * The Docker volume plugin protocol as plain types: each request body dockerd sends and the
 * response it expects. Field names are the protocol's and keep their capitals.
 */
import { z } from 'zod';
import { stringRecord } from '../volumes/state.ts';

const name = z.string({ error: 'field "Name" must be a string' });
const id = z.string({ error: 'field "ID" must be a string' });

export const requestSchemas = {
  create: z.object({
    Name: name,
    Opts: z.unknown().optional().transform((value, context) => {
      // dockerd sends null when no option was given.
      if (value === null || value === undefined) return stringRecord([]);
      const entries = typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : undefined;
      if (entries === undefined || !entries.every((entry): entry is [string, string] => typeof entry[1] === 'string')) {
        context.addIssue({ code: 'custom', message: 'field "Opts" must map option names to string values' });
        return z.NEVER;
      }
      // A null-prototype record keeps an option named "__proto__" as a key, so it is rejected as unknown.
      return stringRecord(entries);
    }),
  }),
  named: z.object({ Name: name }),
  mount: z.object({ Name: name, ID: id }),
  empty: z.object({}),
};

export type CreateRequest = z.infer<typeof requestSchemas.create>;
export type NamedRequest = z.infer<typeof requestSchemas.named>;
export type MountRequest = z.infer<typeof requestSchemas.mount>;

export interface WireVolume {
  Name: string;
  /** Absent while the volume is not mounted. */
  Mountpoint?: string;
  /** RFC 3339, because anything else makes dockerd drop the whole List response. */
  CreatedAt?: string;
  Status?: Record<string, string | number>;
}

export interface ActivateResponse {
  Implements: string[];
}

export interface ErrorResponse {
  Err: string;
}

export type EmptyResponse = Record<string, never>;

export interface MountpointResponse {
  Mountpoint: string;
}

export interface GetResponse {
  Volume: WireVolume;
}

export interface ListResponse {
  Volumes: WireVolume[];
}

export interface CapabilitiesResponse {
  Capabilities: { Scope: 'local' | 'global' };
}
