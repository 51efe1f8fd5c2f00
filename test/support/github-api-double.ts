import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body?: unknown;
}

/**
 * GitHub's REST API at the HTTP level: answers the routes given with the recorded shapes GitHub
 * documents, 404 otherwise, and records what was asked.
 */
export async function startGitHubApi(
  routes: Record<string, unknown>,
): Promise<{ url: string; requests: RecordedRequest[]; close: () => Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        ...(text ? { body: JSON.parse(text) as unknown } : {}),
      });
      const body = routes[`${req.method} ${req.url}`];
      if (body === undefined) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }));
        return;
      }
      res
        .writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json; charset=utf-8' })
        .end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
