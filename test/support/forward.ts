// A reverse proxy of the tests' own: passes each request on to one upstream (HTTP or HTTPS), as a load
// balancer or an auth gateway in front of a real server does. A request the client ends (a watch) ends
// upstream too, so no socket outlives the test.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export function forwardTo(upstream: URL, options: { ca?: string } = {}) {
  const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const forward = send(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
        agent: false,
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  };
}
