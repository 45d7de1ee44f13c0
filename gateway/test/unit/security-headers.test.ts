/** The precomputed security headers are exactly what helmet's own middleware chain sends. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { API_HELMET_OPTIONS, apiSecurityHeaders, precomputedHeaders } from '../../src/http-hygiene.ts';

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

describe('precomputed security headers', () => {
  it('sends the same headers, in the same order, as helmet run per request', async () => {
    const fromHelmet = await headersSentWith(helmet(API_HELMET_OPTIONS));
    const precomputed = await headersSentWith(apiSecurityHeaders());
    expect(precomputed).toEqual(fromHelmet);
    expect(precomputed.map(([name]) => name)).toEqual(
      expect.arrayContaining(['content-security-policy', 'x-content-type-options']),
    );
    expect(precomputed.find(([name]) => name === 'x-powered-by')).toBeUndefined();
  });

  it('sends the API set: no framing, no sniffing, HSTS — and none of the HTML-only or retired headers', async () => {
    const headers = new Map(await headersSentWith(apiSecurityHeaders()));
    expect(headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
    for (const retired of [
      'x-xss-protection',
      'x-download-options',
      'x-dns-prefetch-control',
      'x-permitted-cross-domain-policies',
      'origin-agent-cluster',
    ])
      expect(headers.has(retired)).toBe(false);
  });

  it('refuses a middleware that does not finish synchronously', () => {
    expect(() => precomputedHeaders((_req, _res, next) => void setTimeout(next, 1))).toThrow(/synchronously/);
  });
});
