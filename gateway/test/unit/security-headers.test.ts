/** The precomputed security headers are exactly what helmet's own middleware chain sends. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { apiSecurityHeaders, precomputedHeaders } from '../../src/http-hygiene.ts';

async function headersSentWith(middleware: RequestHandler): Promise<[string, string][]> {
  const app = express();
  app.use(middleware);
  app.get('/', (_req, res) => {
    res.json({ ok: true });
  });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await response.text();
    return [...response.headers].filter(([name]) => name !== 'date');
  } finally {
    server.close();
  }
}

const API_HELMET = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-site' as const },
};

describe('precomputed security headers', () => {
  it('sends the same headers, in the same order, as helmet run per request', async () => {
    const fromHelmet = await headersSentWith(helmet(API_HELMET));
    const precomputed = await headersSentWith(apiSecurityHeaders());
    expect(precomputed).toEqual(fromHelmet);
    expect(precomputed.map(([name]) => name)).toEqual(
      expect.arrayContaining(['content-security-policy', 'x-content-type-options']),
    );
    expect(precomputed.find(([name]) => name === 'x-powered-by')).toBeUndefined();
  });

  it('refuses a middleware that does not finish synchronously', () => {
    expect(() => precomputedHeaders((_req, _res, next) => void setTimeout(next, 1))).toThrow(/synchronously/);
  });
});
