/**
 * Child process: the ceiling for a cache hit — a bare `node:http` server that reads the request body
 * and answers with fixed response bytes (the gateway's cached answer), nothing else.
 * Usage: ceiling-server.ts <port> <file with the response body> [<file with the response headers, JSON pairs>]
 * With the headers file it sends exactly the header block the gateway's hit sent (the same response
 * bytes on the wire; Node adds Date and Connection to both); without it, only content type and length.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [port, bodyFile, headersFile] = process.argv.slice(2);
const body = readFileSync(bodyFile!);
const headers: string[] | Record<string, string> = headersFile
  ? (JSON.parse(readFileSync(headersFile, 'utf8')) as [string, string][]).flat()
  : { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) };

const server = http.createServer((request, response) => {
  // Consume the request like a real server must before answering on a keep-alive connection.
  request.resume();
  request.on('end', () => {
    response.writeHead(200, headers);
    response.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(JSON.stringify({ ready: true }) + '\n'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
