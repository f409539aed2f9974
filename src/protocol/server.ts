/**
 * The plugin's HTTP server on a unix socket. Every request is a POST of a JSON body (dockerd sends
 * no Content-Type, and an empty body for Plugin.Activate); every failure, from an unknown route to
 * a malformed body to a backend error, becomes an `{"Err": ...}` response in `respondWithError`.
 */
import http from 'node:http';
import net from 'node:net';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { DsvError, toDsvError } from '../errors.ts';
import type { Route } from './routes.ts';

/** Largest request body accepted; real requests are a few hundred bytes of names and options. */
export const maxBodyBytes = 64 * 1024;

/** Longest `Err` text sent; backends' own error texts are quoted and may be long. */
const maxErrorLength = 4096;

/** Time running requests get to finish at shutdown before their connections are cut. */
const closeGraceMs = 2000;

/**
 * Checks that `socket` can be taken over: nothing there, or a socket file no process listens on.
 * A regular file is never deleted, and a live socket means another dsv is already serving.
 */
export async function checkSocketFree(socket: string): Promise<void> {
  const stats = await lstat(socket).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw socketError(socket, `cannot be checked (${error.code ?? error.message})`);
  });
  if (stats === undefined) return;
  if (!stats.isSocket()) throw socketError(socket, 'exists and is not a socket; remove it or choose another path');
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw socketError(socket, 'is in use by another process, probably another dsv; stop it first');
}

function socketError(socket: string, reason: string): DsvError {
  return new DsvError('INVALID_SETTING', `DSV_SOCKET ${socket} ${reason}`);
}

export interface PluginServerOptions {
  readonly socket: string;
  readonly routes: ReadonlyMap<string, Route>;
  readonly logger: Logger;
}

export class PluginServer {
  readonly #options: PluginServerOptions;
  readonly #server: http.Server;
  /** Inode of the socket this server created, so that close() never removes another's socket. */
  #socketInode: number | undefined;

  constructor(options: PluginServerOptions) {
    this.#options = options;
    this.#server = http.createServer({ requestTimeout: 150_000, headersTimeout: 10_000 }, (request, response) => {
      void this.#handle(request, response);
    });
    // Node responds to requests it cannot parse with a bare status line; dockerd expects {"Err"}.
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return;
      const body = JSON.stringify({ Err: `malformed HTTP request (${error.code ?? 'parse error'}) [INVALID_REQUEST]` });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
  }

  /** Listens on the socket, replacing a stale socket file left by a crash. */
  async listen(): Promise<void> {
    const socket = this.#options.socket;
    await checkSocketFree(socket);
    try {
      await mkdir(path.dirname(socket), { recursive: true, mode: 0o755 });
      await unlink(socket).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(socket, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
      // Only root (dockerd) may talk to the plugin.
      await chmod(socket, 0o600);
      this.#socketInode = (await lstat(socket)).ino;
    } catch (error) {
      throw socketError(socket, `cannot be listened on (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }

  /**
   * Stops accepting requests, gives running ones a short grace period, then cuts what is left
   * (a client that stalls mid-body must not hold up shutdown) and removes the socket file.
   */
  async close(): Promise<void> {
    const cut = setTimeout(() => this.#server.closeAllConnections(), closeGraceMs);
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
    clearTimeout(cut);
    const current = await lstat(this.#options.socket).catch(() => undefined);
    if (current !== undefined && current.ino === this.#socketInode) await unlink(this.#options.socket).catch(() => undefined);
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const method = request.url ?? '';
    try {
      const route = this.#options.routes.get(method);
      if (request.method !== 'POST' || route === undefined) {
        throw new DsvError('INVALID_REQUEST', `unsupported request ${request.method} ${method.slice(0, 200)}`);
      }
      const body = await readBody(request);
      const parsed = route.schema.safeParse(body ?? {});
      if (!parsed.success && body === undefined) {
        this.#rejectEmptyBody(method, response);
        return;
      }
      if (!parsed.success) {
        const reason = parsed.error.issues.map((issue) => issue.message).join('; ');
        throw new DsvError('INVALID_REQUEST', `invalid ${method} request: ${reason}`);
      }
      const result = await route.handle(parsed.data);
      send(response, 200, result);
      this.#options.logger.debug({ method, durationMs: elapsed(started) }, 'request served');
    } catch (error) {
      this.#respondWithError(response, method, error, started);
    }
  }

  /**
   * Responds to a request that needs fields but came with no body. dockerd 20.10 sends one when
   * it retries a request after the plugin restarted, because the retry reuses a body it already
   * read (seen in an engine test). A failed Get makes dockerd forget the volume, so a bodiless
   * Get gets its connection closed instead, which dockerd treats as the plugin being away.
   */
  #rejectEmptyBody(method: string, response: http.ServerResponse): void {
    this.#options.logger.warn({ method }, 'request without a body, probably a retry by dockerd after a plugin restart');
    if (method === '/VolumeDriver.Get') {
      response.socket?.destroy();
      return;
    }
    const failure = new DsvError(
      'INVALID_REQUEST',
      `${method} request came without a body, which dockerd sends when it retries after a plugin restart; run the command again`,
    );
    send(response, 400, { Err: failure.describe() }, true);
  }

  /** Turns every failure into a protocol response; the only place that does. */
  #respondWithError(response: http.ServerResponse, method: string, error: unknown, started: number): void {
    const failure = toDsvError(error);
    const fields = { method: method.slice(0, 200), code: failure.code, durationMs: elapsed(started) };
    if (failure.code === 'INTERNAL') {
      this.#options.logger.error({ ...fields, err: error }, 'request failed');
    } else if (failure.code === 'VOLUME_NOT_FOUND') {
      // dockerd queries every plugin for volumes it does not know, so these are routine.
      this.#options.logger.debug({ ...fields, err: failure.describe() }, 'request failed');
    } else {
      this.#options.logger.info({ ...fields, err: failure.describe() }, 'request failed');
    }
    const status = failure.code === 'INVALID_REQUEST' ? 400 : 500;
    // A request whose body was not read to the end cannot share its connection with the next one.
    const close = !response.req.complete;
    const text = failure.describe();
    const err = text.length > maxErrorLength ? `${text.slice(0, maxErrorLength)}...` : text;
    if (!response.headersSent) send(response, status, { Err: err }, close);
  }
}

/** Reads and decodes the body: empty is undefined, anything but a JSON object is INVALID_REQUEST. */
function readBody(request: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBodyBytes) {
        chunks.push(chunk);
        return;
      }
      // Stop reading at once. The error response closes the connection, which discards the rest.
      request.off('data', onData);
      request.pause();
      reject(new DsvError('INVALID_REQUEST', `request body is larger than ${maxBodyBytes} bytes`));
    };
    request.on('data', onData);
    request.once('end', () => {
      try {
        resolve(decodeBody(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    request.once('error', (error) => {
      reject(new DsvError('INVALID_REQUEST', 'the client closed the connection before the request was complete', { cause: error }));
    });
  });
}

function decodeBody(bytes: Buffer): unknown {
  const text = bytes.toString('utf8').trim();
  if (text === '') return undefined;

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DsvError('INVALID_REQUEST', 'request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DsvError('INVALID_REQUEST', 'request body must be a JSON object');
  }
  return body;
}

function send(response: http.ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': 'application/vnd.docker.plugins.v1.2+json',
    'Content-Length': Buffer.byteLength(text),
  };
  if (close) headers.Connection = 'close';
  response.writeHead(status, headers);
  response.end(text);
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
