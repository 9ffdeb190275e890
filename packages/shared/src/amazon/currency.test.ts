import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moneyToMicros, minorUnits } from './currency.ts';

test('cents currencies round to the cent, then to micros', () => {
  assert.equal(moneyToMicros(1.23, 'USD'), 1_230_000);
  assert.equal(moneyToMicros(0.1 + 0.2, 'EUR'), 300_000);
  assert.equal(moneyToMicros(1.005, 'GBP'), 1_000_000 + 0 * 1); // 1.005 is 1.00499… in binary
});

test('zero-decimal currencies have no minor unit', () => {
  assert.equal(minorUnits('JPY'), 0);
  assert.equal(moneyToMicros(1234, 'JPY'), 1_234_000_000);
  assert.equal(moneyToMicros(12.4, 'JPY'), 12_000_000);
});
