import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LATEST_TIME_ZONE, marketplaceTimeZone } from './marketplaces.ts';
import { localToday } from '../calendar.ts';

test("a manager-linked advertiser's days are its marketplace's; an unknown marketplace's end last of all", () => {
  assert.equal(marketplaceTimeZone('ATVPDKIKX0DER'), 'America/Los_Angeles');
  assert.equal(marketplaceTimeZone('A1VC38T7YXB528'), 'Asia/Tokyo');
  assert.equal(marketplaceTimeZone('nope'), LATEST_TIME_ZONE);
  assert.equal(marketplaceTimeZone(null), LATEST_TIME_ZONE);
  // 11:00 UTC: already the 7th in Tokyo and Los Angeles, still the 6th at UTC−12.
  const at = new Date('2026-12-07T11:00:00Z');
  assert.equal(localToday(marketplaceTimeZone('A1VC38T7YXB528'), at), '2026-12-07');
  assert.equal(localToday(LATEST_TIME_ZONE, at), '2026-12-06');
});
