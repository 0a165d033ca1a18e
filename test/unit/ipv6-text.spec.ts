import { parseIpv6 } from '../../src/adapters/ipfix/field-value.codec.js';
import { formatIpv6 } from '../../src/adapters/net/ipv6-text.js';

/** The one IPv6 formatter: the capture decoder and the IPFIX codec both write addresses with it. */
describe('formatIpv6', () => {
  it.each(['::', '::1', 'fd00::1', 'fd00:0:0:1::', '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', 'fe80::a:b:c:d', '1:0:0:2:0:0:0:3', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'])(
    'writes %s as RFC 5952 text (as the WHATWG URL parser normalises it)',
    (address) => {
      const expected = new URL(`http://[${address}]/`).hostname.slice(1, -1);
      expect(formatIpv6(parseIpv6(address))).toBe(expected);
    },
  );

  it('keeps the dotted tail of an IPv4-mapped address (RFC 5952 §5)', () => {
    expect(formatIpv6(parseIpv6('::ffff:10.244.1.2'))).toBe('::ffff:10.244.1.2');
  });

  it('reads 16 bytes at the start of a larger buffer view', () => {
    const buffer = Buffer.alloc(40, 0xee);
    Buffer.from(parseIpv6('fd00:244::3')).copy(buffer, 8);
    expect(formatIpv6(buffer.subarray(8, 24))).toBe('fd00:244::3');
  });
});
