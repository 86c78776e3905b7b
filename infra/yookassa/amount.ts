/**
 * Money as YooKassa wants it: a decimal string with exactly two fraction digits ("299.00").
 * Arithmetic goes through integer minor units (kopecks) as bigint, so no float ever touches money.
 */

export const AMOUNT_PATTERN = /^\d+\.\d{2}$/;

const LOOSE_AMOUNT = /^(\d+)(?:\.(\d{1,2}))?$/;

/**
 * Normalises "299", "299.5" or "299.00" to "299.00". Throws a RangeError on anything else
 * (negative, exponent, more than two decimals, numbers): a silent rounding would change a price.
 */
export function toAmountString(value: string): string {
  if (typeof value !== 'string') throw new RangeError(`amount must be a decimal string, got ${typeof value}`);
  const match = LOOSE_AMOUNT.exec(value.trim());
  if (!match) throw new RangeError(`invalid amount "${value}": expected a decimal like "299.00"`);
  const whole = match[1]!.replace(/^0+(?=\d)/, '');
  const result = `${whole}.${(match[2] ?? '').padEnd(2, '0')}`;
  if (!AMOUNT_PATTERN.test(result)) throw new RangeError(`invalid amount "${value}"`);
  return result;
}

/** "299.00" → 29900n. Input must already match AMOUNT_PATTERN. */
export function toMinorUnits(value: string): bigint {
  if (!AMOUNT_PATTERN.test(value)) throw new RangeError(`invalid amount "${value}": expected "0.00" format`);
  return BigInt(value.replace('.', ''));
}

/** 29900n → "299.00". */
export function fromMinorUnits(minor: bigint): string {
  if (minor < 0n) throw new RangeError(`negative amount ${minor}`);
  const text = minor.toString().padStart(3, '0');
  return `${text.slice(0, -2)}.${text.slice(-2)}`;
}

/** Equal money amounts, compared as normalised decimal strings ("10" = "10.00"); anything malformed is unequal. */
export function sameAmount(a: string, b: string): boolean {
  try {
    return toAmountString(a) === toAmountString(b);
  } catch {
    return false;
  }
}
