/**
 * The Docker volume plugin protocol as plain types: each request body dockerd sends and the
 * response it expects. Field names are the protocol's and keep their capitals.
 */
import { z } from 'zod';

const name = z.string({ error: 'field "Name" must be a string' });
const id = z.string({ error: 'field "ID" must be a string' });

export const requestSchemas = {
  create: z.object({
    Name: name,
    // dockerd sends null when no option was given.
    Opts: z.record(z.string(), z.string({ error: 'every option value must be a string' })).nullish(),
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
  /** RFC 3339; anything else makes dockerd drop the whole List answer. */
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
