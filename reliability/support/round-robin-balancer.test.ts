/**
 * The two-replica fault test's stand-in for a Kubernetes Service: requests alternate between the
 * replicas, a replica that refuses connections is skipped for the same request, and one that dies
 * mid-answer is a 502 (never retried: the request may have run).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RoundRobinBalancer } from './round-robin-balancer.ts';

interface Replica {
  port: number;
  server: http.Server;
  bodies: string[];
}

async function replica(name: string, onRequest?: (res: http.ServerResponse) => boolean): Promise<Replica> {
  const bodies: string[] = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    bodies.push(body);
    if (onRequest?.(res)) return;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ replica: name, body }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, bodies };
}

const close = (server: http.Server) => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
};

async function post(port: number, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', body });
  return { status: response.status, text: await response.text() };
}

describe('round-robin balancer (two-replica fault test)', () => {
  it('sends requests to the replicas in turn, and a refused one to the next replica', async () => {
    const [a, b] = [await replica('a'), await replica('b')];
    const balancer = new RoundRobinBalancer(2);
    balancer.setBackend(0, a.port);
    balancer.setBackend(1, b.port);
    const port = await balancer.listen();
    try {
      const answers = [];
      for (let n = 0; n < 4; n++) answers.push(JSON.parse((await post(port, `q${n}`)).text) as { replica: string; body: string });
      expect(answers.map((answer) => answer.replica)).toEqual(['a', 'b', 'a', 'b']);
      expect(answers.map((answer) => answer.body)).toEqual(['q0', 'q1', 'q2', 'q3']);

      await close(a.server); // "SIGKILLed": its port refuses connections now
      const after = [];
      for (let n = 0; n < 4; n++) after.push(await post(port, `r${n}`));
      expect(after.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      expect(b.bodies.slice(-4)).toEqual(['r0', 'r1', 'r2', 'r3']);
      expect(balancer.stats).toEqual({ served: [2, 6], failedOver: 2, badGateway: 0 });
    } finally {
      await balancer.close();
      await close(b.server);
    }
  });

  it('answers 502 when the replica dies mid-answer, without sending the request again', async () => {
    const dying = await replica('dying', (res) => {
      res.socket?.destroy();
      return true;
    });
    const other = await replica('other');
    const balancer = new RoundRobinBalancer(2);
    balancer.setBackend(0, dying.port);
    balancer.setBackend(1, other.port);
    const port = await balancer.listen();
    try {
      expect((await post(port, 'mutation')).status).toBe(502);
      expect(other.bodies).toEqual([]);
      expect(balancer.stats.badGateway).toBe(1);
    } finally {
      await balancer.close();
      await close(dying.server);
      await close(other.server);
    }
  });
});
