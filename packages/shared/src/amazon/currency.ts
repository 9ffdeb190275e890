/** Minor units per currency (ISO 4217) for the marketplaces Amazon Ads serves. */
const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'CLP', 'VND', 'ISK', 'HUF']);

export const minorUnits = (currency: string): number => (ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2);

/**
 * An amount in the currency's units to integer micros, rounded to the currency's
 * minor unit first (a JPY cost has no sen; a USD cost has cents), so float noise
 * in Amazon's decimals never becomes a phantom micro.
 */
export function moneyToMicros(value: number, currency: string): number {
  const d = minorUnits(currency);
  return Math.round(value * 10 ** d) * 10 ** (6 - d);
}
