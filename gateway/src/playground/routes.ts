/**
 * The admin playground at `/playground`: GraphiQL served from the gateway's own npm dependencies
 * (React 18 and GraphiQL UMD bundles), so it works with no internet access and no CDN.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import helmet from 'helmet';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

/** URL name → file on disk; nothing else under /playground/assets is served. */
export function playgroundAssets(): Record<string, string> {
  return {
    'react.production.min.js': path.join(packageDir('react'), 'umd', 'react.production.min.js'),
    'react-dom.production.min.js': path.join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'),
    'graphiql.min.js': path.join(packageDir('graphiql'), 'graphiql.min.js'),
    'graphiql.min.css': path.join(packageDir('graphiql'), 'graphiql.min.css'),
    'playground.js': path.join(path.dirname(fileURLToPath(import.meta.url)), 'playground.js'),
  };
}

const html = (endpoint: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>commerce-graph · admin playground</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/playground/assets/graphiql.min.css" />
    <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
  </head>
  <body data-endpoint="${endpoint}">
    <div id="graphiql">Loading the playground…</div>
    <script src="/playground/assets/react.production.min.js"></script>
    <script src="/playground/assets/react-dom.production.min.js"></script>
    <script src="/playground/assets/graphiql.min.js"></script>
    <script src="/playground/assets/playground.js"></script>
  </body>
</html>
`;

/** Only our own origin: scripts from files (no inline script); GraphiQL sets inline styles and data: fonts. */
export const playgroundCsp = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    workerSrc: ["'self'", 'blob:'],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
};

export function mountPlayground(app: Express, endpoint = '/graphql'): void {
  const assets = playgroundAssets();
  const page = html(endpoint);
  const router = express.Router();
  router.use(helmet({ contentSecurityPolicy: playgroundCsp }));
  router.get('/', (_req, res) => {
    res.type('html').setHeader('cache-control', 'no-cache').send(page);
  });
  router.get('/assets/:file', (req, res) => {
    const file = Object.hasOwn(assets, req.params.file) ? assets[req.params.file] : undefined;
    if (!file) {
      res.status(404).type('text').send('not found');
      return;
    }
    res.sendFile(file, { maxAge: '1h' });
  });
  app.use('/playground', router);
}
