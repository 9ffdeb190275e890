/** Amazon Ads API and Login with Amazon endpoints per region. */
export type Region = 'NA' | 'EU' | 'FE';

export const REGION_IDS: Region[] = ['NA', 'EU', 'FE'];

/**
 * The API host, the Login with Amazon token host and the consent page per region
 * (en-us/guides/account-management/authorization/access-tokens.md, …/authorization-grants.md).
 */
export const REGIONS: Record<Region, Endpoints> = {
  NA: {
    apiUrl: 'https://advertising-api.amazon.com',
    tokenUrl: 'https://api.amazon.com/auth/o2/token',
    consentUrl: 'https://www.amazon.com/ap/oa',
  },
  EU: {
    apiUrl: 'https://advertising-api-eu.amazon.com',
    tokenUrl: 'https://api.amazon.co.uk/auth/o2/token',
    consentUrl: 'https://eu.account.amazon.com/ap/oa',
  },
  FE: {
    apiUrl: 'https://advertising-api-fe.amazon.com',
    tokenUrl: 'https://api.amazon.co.jp/auth/o2/token',
    consentUrl: 'https://apac.account.amazon.com/ap/oa',
  },
};

export interface Endpoints {
  apiUrl: string;
  tokenUrl: string;
  consentUrl: string;
}

/** A base URL override (the sandbox) serves the API, the token endpoint and the consent page. */
export function endpointsFor(region: Region, baseUrlOverride?: string): Endpoints {
  if (baseUrlOverride) {
    const base = baseUrlOverride.replace(/\/+$/, '');
    return { apiUrl: base, tokenUrl: `${base}/auth/o2/token`, consentUrl: `${base}/ap/oa` };
  }
  return REGIONS[region];
}
