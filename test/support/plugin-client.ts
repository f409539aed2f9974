/** A minimal client for the plugin socket that sends requests as dockerd does: POST, no Content-Type. */
import http from 'node:http';

export interface PluginAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

export function callPlugin(socketPath: string, method: string, body?: unknown | string, httpMethod = 'POST'): Promise<PluginAnswer> {
  let payload = '';
  if (typeof body === 'string') payload = body;
  else if (body !== undefined) payload = JSON.stringify(body);
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
            reject(new Error(`plugin returned ${response.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
