/** A minimal Docker-like client for the plugin socket: POST, no Content-Type, JSON answers. */
import http from 'node:http';

export interface PluginAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

export function callPlugin(socketPath: string, method: string, body?: unknown | string, httpMethod = 'POST'): Promise<PluginAnswer> {
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath, path: `/${method}`, method: httpMethod, headers: { 'Content-Length': Buffer.byteLength(payload) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, text });
          } catch {
            reject(new Error(`plugin answered ${response.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
