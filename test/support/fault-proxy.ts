import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fault {
  method?: string;
  path: RegExp;
  /** How many matching requests fail before the proxy lets them through. */
  times: number;
  /** Answer with this status (a 5xx)… */
  status?: number;
  /** …or hold the request this long, then pass it on (a stalled registry)… */
  stallMs?: number;
  /** …or drop the connection without an answer (a reset). */
  reset?: boolean;
}

/**
 * A small HTTP proxy in front of a real server (the registry) that fails chosen requests, to prove the
 * retry paths against real clients. Listens on 127.0.0.1 only; the Host header is kept, so the
 * registry's upload locations point back through the proxy.
 */
export class FaultProxy {
  private server?: Server;
  readonly faults: Fault[] = [];
  readonly injected: string[] = [];

  constructor(private readonly upstream: string) {}

  async start(): Promise<string> {
    const [host, port] = this.upstream.split(':');
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const fault = this.faults.find(
        (f) => f.times > 0 && (!f.method || f.method === req.method) && f.path.test(req.url ?? ''),
      );
      if (fault) {
        fault.times--;
        this.injected.push(
          `${req.method} ${req.url} -> ${fault.reset ? 'reset' : fault.stallMs ? `stalled ${fault.stallMs} ms` : fault.status}`,
        );
        if (fault.reset) {
          req.socket.destroy();
          return;
        }
        if (fault.status) {
          req.resume();
          res
            .writeHead(fault.status, { 'content-type': 'application/json' })
            .end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected fault' }] }));
          return;
        }
      }
      const forward = () => this.forward(host!, Number(port), req, res);
      if (fault?.stallMs) setTimeout(forward, fault.stallMs);
      else forward();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private forward(host: string, port: number, req: IncomingMessage, res: ServerResponse): void {
    const upstream = request({ host, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
