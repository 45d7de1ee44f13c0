/**
 * How a client address becomes a rate-limit key, and how a URL's query string is read — shared so every
 * limit and every service agrees with each other and with Apollo.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The rate-limit key of a client address: IPv4 as is (`::ffff:a.b.c.d` is the same IPv4 client), IPv6 by its
 * /64 prefix — one host or home network is given a whole /64, so counting each IPv6 address apart would hand
 * it 2^64 budgets. Anything that is not an address is kept as is (`unknown`).
 */
export function addressKey(ip: string): string {
  const address = ip.trim().toLowerCase();
  if (isIPv4(address)) return address;
  // A zone (`fe80::1%eth0`) names the local interface, not a different client.
  const bare = address.split('%')[0]!;
  if (!isIPv6(bare)) return address;
  const groups = expandIPv6(bare);
  // IPv4-mapped (::ffff:a.b.c.d): an IPv4 client seen through a dual-stack socket.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a trailing dotted IPv4 part converted). */
function expandIPv6(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * A URL query string read the way Apollo Server reads a GET (`URLSearchParams`, every parameter, however
 * many): a name given more than once keeps all its values, as an array. Installed as Express's query parser,
 * because its default stops after 1,000 parameters — checks reading `req.query` then saw nothing past them
 * while Apollo ran the whole request.
 */
export function parseQueryString(search: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(search)) {
    const seen = params[name];
    if (seen === undefined) params[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else params[name] = [seen, value];
  }
  return params;
}
