/** How a client address becomes a rate-limit key, and how a query string is read (review findings 4, 5). */
import { addressKey, parseQueryString } from '../src/client-address.ts';

describe('addressKey', () => {
  it('keeps IPv4 addresses as they are', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
  });

  it('reads an IPv4-mapped IPv6 address as its IPv4 address, in either notation', () => {
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
    expect(addressKey('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('keys IPv6 by its /64, however it is written', () => {
    const key = addressKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const same of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:9', '2001:db8:1:2::1%eth0'])
      expect(addressKey(same)).toBe(key);
    expect(addressKey('2001:db8:1:3::1')).not.toBe(key);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('2001:db8::')).toBe('2001:db8:0:0::/64');
  });

  it('leaves anything that is not an address alone', () => {
    expect(addressKey('unknown')).toBe('unknown');
  });
});

describe('parseQueryString', () => {
  it('reads every parameter, past the 1,000 Express reads by default', () => {
    const params = parseQueryString(`${'a&'.repeat(5000)}query=%7B__typename%7D&variables={"x":[1]}`);
    expect(params.query).toBe('{__typename}');
    expect(params.variables).toBe('{"x":[1]}');
  });

  it('keeps every value of a repeated name, and has no prototype to pollute', () => {
    const params = parseQueryString('variables=1&variables=2&variables=3&__proto__=x');
    expect(params.variables).toEqual(['1', '2', '3']);
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(params.__proto__).toBe('x');
  });
});
