/** Amazon Ads API and Login with Amazon endpoints per region. */
export type Region = 'NA' | 'EU' | 'FE';

export const REGIONS: Record<Region, { apiUrl: string; tokenUrl: string }> = {
  NA: { apiUrl: 'https://advertising-api.amazon.com', tokenUrl: 'https://api.amazon.com/auth/o2/token' },
  EU: { apiUrl: 'https://advertising-api-eu.amazon.com', tokenUrl: 'https://api.amazon.co.uk/auth/o2/token' },
  FE: { apiUrl: 'https://advertising-api-fe.amazon.com', tokenUrl: 'https://api.amazon.co.jp/auth/o2/token' },
};

export interface Endpoints {
  apiUrl: string;
  tokenUrl: string;
}

/** A base URL override (the sandbox) serves both the API and the token endpoint. */
export function endpointsFor(region: Region, baseUrlOverride?: string): Endpoints {
  if (baseUrlOverride) {
    const base = baseUrlOverride.replace(/\/+$/, '');
    return { apiUrl: base, tokenUrl: `${base}/auth/o2/token` };
  }
  return REGIONS[region];
}
