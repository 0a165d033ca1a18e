import { addQuantities, MAX_UNSIGNED64, milliValue, parseQuantity, wholeValue, type Quantity } from '../../../src/domain/vitals/quantity.js';

function parsed(text: string): Quantity {
  const quantity = parseQuantity(text);
  if (quantity === undefined) throw new Error(`${text} did not parse`);
  return quantity;
}

describe('Kubernetes quantities', () => {
  it.each([
    // CPU as the API serves it: cores, millicores, and metrics-server's nanocores.
    ['1', 1000n],
    ['2', 2000n],
    ['250m', 250n],
    ['0.5', 500n],
    ['.5', 500n],
    ['1.', 1000n],
    ['1.5', 1500n],
    ['0.001', 1n],
    ['123456789n', 124n],
    ['1000000n', 1n],
    ['999999n', 1n],
    ['1n', 1n],
    ['1u', 1n],
    ['2500u', 3n],
    ['0', 0n],
    ['0m', 0n],
    ['+3', 3000n],
    ['5e-3', 5n],
    ['1e3', 1_000_000n],
    ['1E3', 1_000_000n],
    ['1k', 1_000_000n],
  ])('CPU %s is %d millicores (rounded up like MilliValue)', (text, expected) => {
    expect(milliValue(parsed(text))).toBe(expected);
  });

  it.each([
    ['1', 1n],
    ['1k', 1000n],
    ['1Ki', 1024n],
    ['1Mi', 1_048_576n],
    ['128Mi', 134_217_728n],
    ['1Gi', 1_073_741_824n],
    ['1.5Gi', 1_610_612_736n],
    ['1Ti', 1_099_511_627_776n],
    ['1Pi', 1_125_899_906_842_624n],
    ['1Ei', 1_152_921_504_606_846_976n],
    ['1M', 1_000_000n],
    ['1G', 1_000_000_000n],
    ['1T', 1_000_000_000_000n],
    ['1P', 1_000_000_000_000_000n],
    ['1E', 1_000_000_000_000_000_000n],
    ['2e9', 2_000_000_000n],
    ['12e6', 12_000_000n],
    ['123456Ki', 126_418_944n],
    ['1500m', 2n],
    ['0.1', 1n],
    ['16276484Ki', 16_667_119_616n],
  ])('memory %s is %d bytes (rounded up like Value)', (text, expected) => {
    expect(wholeValue(parsed(text))).toBe(expected);
  });

  it('keeps values past 2^53 exact', () => {
    expect(wholeValue(parsed('9007199254740993'))).toBe(9_007_199_254_740_993n);
    expect(wholeValue(parsed('15Ei'))).toBe(17_293_822_569_102_704_640n);
  });

  it('sums container values exactly before rounding once', () => {
    const sum = ['333333333n', '333333333n', '333333334n'].map(parsed).reduce(addQuantities);
    expect(milliValue(sum)).toBe(1000n);
    expect(milliValue(addQuantities(parsed('100m'), parsed('0.25')))).toBe(350n);
    expect(wholeValue(addQuantities(parsed('1Gi'), parsed('512Mi')))).toBe(1_610_612_736n);
  });

  it('refuses negative values and values past unsigned64 as amounts', () => {
    expect(parseQuantity('-1')).toEqual({ numerator: -1n, denominator: 1n });
    expect(milliValue(parsed('-1'))).toBeUndefined();
    expect(wholeValue(parsed('16Ei'))).toBeUndefined();
    expect(wholeValue(parsed('18446744073709551615'))).toBe(MAX_UNSIGNED64);
  });

  it.each(['', 'abc', '1 Gi', '1gi', '1KI', '1Kb', '1e', 'e3', '1.2.3', '--1', '1m5', '1ee3', 'Gi', '.', '1e999', ' 1', '1Mi '])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});
