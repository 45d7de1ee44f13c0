/**
 * A tiny HTTP load balancer on loopback, standing in for a Kubernetes Service in front of a service's
 * replicas: each request goes to the next replica in turn. A replica that refuses the connection (it
 * was SIGKILLed) is skipped and the same request goes to the next one — safe, as nothing of it was
 * sent. A replica that dies while answering is not retried (a mutation may have run): the caller gets
 * a 502, as behind a real balancer, and the gateway turns that into SERVICE_UNAVAILABLE.
 *
 * Per request rather than per TCP connection: the gateway keeps its keep-alive connections for long,
 * so a connection-level balancer could send all of a light load to one replica.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BalancerStats {
  /** Requests answered by each replica (index as in the backends list). */
  served: number[];
  /** Requests moved to the next replica because one refused the connection. */
  failedOver: number;
  /** Requests answered 502 (a replica died mid-answer, or none was reachable). */
  badGateway: number;
}

/** Hop-by-hop headers belong to one connection and are not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export class RoundRobinBalancer {
  readonly stats: BalancerStats;
  private next = 0;
  // A fresh connection per request: a pooled one to a replica that just died could fail after the
  // request was written, which would make a dead replica look like one that died mid-request.
  private readonly agent = new http.Agent({ keepAlive: false, maxSockets: 64 });
  // A client that went away mid-request (the gateway's subgraph timeout) only ends that exchange.
  private readonly server = http.createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));

  private readonly backends: number[];

  /** `replicas` slots; each gets its port on 127.0.0.1 from `setBackend` once that replica is starting. */
  constructor(replicas: number) {
    this.backends = Array.from({ length: replicas }, () => 0);
    this.stats = { served: this.backends.map(() => 0), failedOver: 0, badGateway: 0 };
  }

  setBackend(index: number, port: number): void {
    this.backends[index] = port;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const first = this.next++ % this.backends.length;
    for (let tried = 0; tried < this.backends.length; tried++) {
      const index = (first + tried) % this.backends.length;
      if (this.backends[index] === 0) continue; // not started yet
      const outcome = await this.forward(index, req, body, res);
      if (outcome === 'answered') return;
      if (outcome === 'refused') {
        this.stats.failedOver++;
        continue;
      }
      break; // 'broken': the request may have run
    }
    this.stats.badGateway++;
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
    else res.destroy();
  }

  private forward(
    index: number,
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
  ): Promise<'answered' | 'refused' | 'broken'> {
    return new Promise((resolve) => {
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: this.backends[index],
          method: req.method,
          path: req.url,
          headers: { ...req.headers, 'content-length': String(body.length) },
          agent: this.agent,
        },
        (answer) => {
          const headers = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
          answer.once('end', () => {
            this.stats.served[index]!++;
            resolve('answered');
          });
          answer.once('error', () => resolve('broken'));
          answer.once('aborted', () => resolve('broken'));
        },
      );
      upstream.once('error', (error: NodeJS.ErrnoException) => {
        // Refused before anything was sent: the replica is down, the next one may take the request.
        resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'broken');
      });
      upstream.end(body);
    });
  }
}
