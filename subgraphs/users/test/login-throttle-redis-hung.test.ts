/**
 * A hung Redis (connected, answering nothing: a stopped or overloaded server) must not hang logins. Found by
 * the Redis SIGSTOP probe in `reliability/recovery-postgres-restart.int.test.ts`: every login waited until the
 * gateway gave up (SERVICE_UNAVAILABLE after its subgraph timeout), because the users service's Redis client
 * had no command timeout, so the limiter never fell back to its in-memory insurance. A fake server that
 * answers ioredis' ready check and then nothing stands in for the hung Redis.
 */
import { once } from 'node:events';
import net from 'node:net';
import { createLogger } from '@commerce/platform';
import { RateLimitedLoginThrottle } from '../src/adapters/security/rate-limited-login-throttle.ts';
import { connectRedis } from '../src/wiring.ts';

const INFO = '# Server\r\nredis_version:7.2.0\r\nloading:0\r\n';

/** Reads complete RESP commands (`*N` then N `$len` bulk strings) off the front of `buffer`. */
function takeCommands(buffer: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const header = /^\*(\d+)\r\n/.exec(buffer.slice(at));
    if (!header) break;
    let cursor = at + header[0].length;
    const args: string[] = [];
    for (let i = 0; i < Number(header[1]); i++) {
      const length = /^\$(\d+)\r\n/.exec(buffer.slice(cursor));
      if (!length) return { commands, rest: buffer.slice(at) };
      const start = cursor + length[0].length;
      if (buffer.length < start + Number(length[1]) + 2) return { commands, rest: buffer.slice(at) };
      args.push(buffer.slice(start, start + Number(length[1])));
      cursor = start + Number(length[1]) + 2;
    }
    commands.push(args);
    at = cursor;
  }
  return { commands, rest: buffer.slice(at) };
}

/**
 * Answers what ioredis sends on connecting (CLIENT SETINFO, the INFO ready check) like Redis, then
 * nothing: every later command stays unanswered on an open socket.
 */
async function hungRedis(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let unanswered = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let ready = false;
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      const taken = takeCommands(buffer + chunk.toString('utf8'));
      buffer = taken.rest;
      for (const [name] of taken.commands) {
        if (ready) unanswered++;
        else if (name?.toLowerCase() === 'info') {
          ready = true;
          socket.write(`$${Buffer.byteLength(INFO)}\r\n${INFO}\r\n`);
        } else socket.write('+OK\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    received: () => unanswered,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} still waiting after ${ms} ms`)), ms).unref()),
  ]);

describe('login throttling while Redis hangs', () => {
  it('answers from the in-memory insurance within seconds instead of waiting for Redis', async () => {
    const server = await hungRedis();
    const redis = connectRedis(server.url, createLogger({ service: 'users', level: 'silent' }));
    try {
      await once(redis, 'ready');
      const throttle = new RateLimitedLoginThrottle(
        { maxAttemptsPerAccount: 5, maxAttemptsPerIp: 50, windowSeconds: 60, maxDelaySeconds: 4 },
        { redis },
      );
      const keys = { account: 'hung@example.test', ip: '203.0.113.7' };
      const started = Date.now();
      const verdict = await within(throttle.beginAttempt(keys), 5_000, 'beginAttempt');
      await within(throttle.attemptFailed(keys), 5_000, 'attemptFailed');
      await within(throttle.attemptSucceeded(keys), 5_000, 'attemptSucceeded');
      const elapsedMs = Date.now() - started;
      console.log(`[hung redis] begin + failed + succeeded answered in ${elapsedMs} ms`);
      expect(verdict).toEqual({ allowed: true });
      // The commands did reach the hung server: the answers came from the insurance, not from skipping Redis.
      expect(server.received()).toBeGreaterThan(1);
      // The gateway gives a subgraph 5 s (SUBGRAPH_TIMEOUT_MS) per call: a login must answer well within it.
      expect(elapsedMs).toBeLessThan(4_000);
    } finally {
      redis.disconnect();
      await server.close();
    }
  }, 30_000);
});
