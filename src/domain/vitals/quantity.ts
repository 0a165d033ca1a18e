/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity), parsed
 * exactly with BigInt: "250m", "1.5Gi", "123456789n", "5e3", "0.1".
 *
 *   quantity ::= sign? number suffix
 *   number   ::= digits | digits "." digits? | "." digits
 *   suffix   ::= "" | n u m k M G T P E | Ki Mi Gi Ti Pi Ei | ("e" | "E") sign? digits
 *
 * The value is kept as an exact fraction (numerator / denominator), so sums of
 * container values are exact and rounding happens once, at the unit conversion.
 */
export interface Quantity {
  readonly numerator: bigint;
  /** Always positive: a power of ten (decimal fractions and small suffixes). */
  readonly denominator: bigint;
}

export const ZERO_QUANTITY: Quantity = { numerator: 0n, denominator: 1n };

const DECIMAL_SUFFIX_EXPONENTS: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX_EXPONENTS: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

const QUANTITY_PATTERN = /^([+-]?)(\d+\.?\d*|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;
/** Bounds a decimal exponent so "1e999999999" cannot make a giant BigInt; real quantities stay far inside. */
const MAX_DECIMAL_EXPONENT = 64;

/** The exact value of a quantity string, or undefined when it is not one. */
export function parseQuantity(text: string): Quantity | undefined {
  const match = QUANTITY_PATTERN.exec(text);
  if (match === null) return undefined;
  const [, sign, number, exponentSuffix, siSuffix = ''] = match;
  const [whole, fraction = ''] = number.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let decimalExponent = -fraction.length;
  if (exponentSuffix !== undefined) {
    const exponent = Number(exponentSuffix.slice(1));
    if (Math.abs(exponent) > MAX_DECIMAL_EXPONENT) return undefined;
    decimalExponent += exponent;
  } else if (siSuffix in BINARY_SUFFIX_EXPONENTS) {
    numerator <<= BigInt(BINARY_SUFFIX_EXPONENTS[siSuffix]);
  } else {
    decimalExponent += DECIMAL_SUFFIX_EXPONENTS[siSuffix];
  }
  if (sign === '-') numerator = -numerator;
  return decimalExponent >= 0
    ? { numerator: numerator * 10n ** BigInt(decimalExponent), denominator: 1n }
    : { numerator, denominator: 10n ** BigInt(-decimalExponent) };
}

export function addQuantities(a: Quantity, b: Quantity): Quantity {
  if (a.denominator === b.denominator) return { numerator: a.numerator + b.numerator, denominator: a.denominator };
  // Denominators are powers of ten: the larger one is a multiple of the smaller.
  const [small, large] = a.denominator < b.denominator ? [a, b] : [b, a];
  return { numerator: small.numerator * (large.denominator / small.denominator) + large.numerator, denominator: large.denominator };
}

/** unsigned64 (RFC 7011 §6.1.1): the largest value an exported amount can take. */
export const MAX_UNSIGNED64 = 2n ** 64n - 1n;

/**
 * The quantity in whole units of 1/`perUnit` (perUnit 1 = bytes or cores, 1000 =
 * millicores), rounded up like Quantity.Value()/MilliValue() in Kubernetes: 1n of
 * CPU is 1m, 0.5 bytes is 1 byte. Undefined for negative values or values past
 * unsigned64, which no usage, request, limit or capacity can be.
 */
export function toWholeUnits(quantity: Quantity, perUnit: bigint): bigint | undefined {
  const scaled = quantity.numerator * perUnit;
  if (scaled < 0n) return undefined;
  const units = (scaled + quantity.denominator - 1n) / quantity.denominator;
  return units <= MAX_UNSIGNED64 ? units : undefined;
}

/**
 * Kubernetes' Quantity.MilliValue(): thousandths, rounded up. CPU in millicores
 * ("250m" -> 250, "1" -> 1000, "1n" -> 1) and metric values without a unit of their own.
 */
export function milliValue(quantity: Quantity): bigint | undefined {
  return toWholeUnits(quantity, 1000n);
}

/** Kubernetes' Quantity.Value(): whole units, rounded up. Memory in bytes ("1Ki" -> 1024, "1k" -> 1000). */
export function wholeValue(quantity: Quantity): bigint | undefined {
  return toWholeUnits(quantity, 1n);
}
