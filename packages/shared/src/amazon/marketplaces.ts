/**
 * The time zone Amazon Ads keeps each marketplace's days in: a profile of that marketplace
 * reports it as its `timezone` (Profiles model), and a DSP advertiser linked to a manager account
 * has only its marketplace (ManagerAccounts model: linkedAccounts[].marketplaceId), so its days are
 * planned in its marketplace's zone. Values as widely used clients record them off the Profiles API
 * (ScaleLeap/amazon-marketplaces, "the advertisement values … used for all date-based campaign
 * management and reporting").
 */
const ADVERTISING_TIME_ZONES: Record<string, string> = {
  ATVPDKIKX0DER: 'America/Los_Angeles', // US
  A2EUQ1WTGCTBG2: 'America/Los_Angeles', // CA
  A1AM78C64UM0Y8: 'America/Los_Angeles', // MX
  A2Q3Y263D00KWC: 'America/Sao_Paulo', // BR
  A1F83G8C2ARO7P: 'Europe/London', // UK
  A1PA6795UKMFR9: 'Europe/Paris', // DE
  A13V1IB3VIYZZH: 'Europe/Paris', // FR
  APJ6JRA9NG5V4: 'Europe/Paris', // IT
  A1RKKUPIHCS9HS: 'Europe/Paris', // ES
  A1805IZSGTT6HS: 'Europe/Amsterdam', // NL
  A2NODRKZP88ZB9: 'Europe/Stockholm', // SE
  A1C3SOZRARQ6R3: 'Europe/Warsaw', // PL
  AMEN7PMS3EDWL: 'Europe/Brussels', // BE
  A33AVAJ2PDY3EV: 'Europe/Istanbul', // TR
  A2VIGQ35RCS4UG: 'Asia/Dubai', // AE
  A17E79C6D8DWNP: 'Asia/Riyadh', // SA
  ARBP9OOSHTCHU: 'Africa/Cairo', // EG
  A21TJRUUN4KGV: 'Asia/Kolkata', // IN
  A1VC38T7YXB528: 'Asia/Tokyo', // JP
  A39IBJ37TRP1C6: 'Australia/Sydney', // AU
  A19VAU5U5O7RUS: 'Asia/Singapore', // SG
};

/**
 * Where a day ends last (UTC−12): a marketplace not in the table has its days planned as if there,
 * so no day is asked for before it has ended wherever the advertiser is.
 */
export const LATEST_TIME_ZONE = 'Etc/GMT+12';

/** The marketplace's advertising time zone, or the latest one when the marketplace is unknown. */
export const marketplaceTimeZone = (marketplaceId: string | null | undefined): string =>
  (marketplaceId && ADVERTISING_TIME_ZONES[marketplaceId]) || LATEST_TIME_ZONE;
