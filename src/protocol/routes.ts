/**
 * The route table: one entry per protocol method, each naming the request schema and the handler.
 * Handlers validate, act and respond. Only the server turns failures into `Err` responses.
 */
import type { z } from 'zod';
import type { VolumeInfo, VolumeService } from '../volumes/volumes.ts';
import { requestSchemas, type WireVolume } from './wire.ts';

export interface Route<Schema extends z.ZodType = z.ZodType> {
  readonly schema: Schema;
  readonly handle: (request: z.infer<Schema>) => Promise<unknown> | unknown;
}

function route<Schema extends z.ZodType>(schema: Schema, handle: (request: z.infer<Schema>) => unknown): Route {
  return { schema, handle: handle as Route['handle'] };
}

export function volumeDriverRoutes(volumes: VolumeService): ReadonlyMap<string, Route> {
  return new Map<string, Route>([
    ['/Plugin.Activate', route(requestSchemas.empty, () => ({ Implements: ['VolumeDriver'] }))],
    [
      '/VolumeDriver.Create',
      route(requestSchemas.create, async (request) => {
        await volumes.create(request.Name, request.Opts);
        return {};
      }),
    ],
    [
      '/VolumeDriver.Remove',
      route(requestSchemas.named, async (request) => {
        await volumes.remove(request.Name);
        return {};
      }),
    ],
    [
      '/VolumeDriver.Mount',
      route(requestSchemas.mount, async (request) => ({ Mountpoint: await volumes.mount(request.Name, request.ID) })),
    ],
    [
      '/VolumeDriver.Unmount',
      route(requestSchemas.mount, async (request) => {
        await volumes.unmount(request.Name, request.ID);
        return {};
      }),
    ],
    [
      '/VolumeDriver.Path',
      route(requestSchemas.named, (request) => ({ Mountpoint: volumes.get(request.Name).mountpoint ?? '' })),
    ],
    ['/VolumeDriver.Get', route(requestSchemas.named, (request) => ({ Volume: toWire(volumes.get(request.Name)) }))],
    ['/VolumeDriver.List', route(requestSchemas.empty, () => ({ Volumes: volumes.list().map(toWire) }))],
    ['/VolumeDriver.Capabilities', route(requestSchemas.empty, () => ({ Capabilities: { Scope: 'local' } }))],
  ]);
}

function toWire(volume: VolumeInfo): WireVolume {
  const wire: WireVolume = { Name: volume.name, CreatedAt: volume.createdAt, Status: volume.status };
  if (volume.mountpoint !== undefined) wire.Mountpoint = volume.mountpoint;
  return wire;
}
