/**
 * Which of an account's advertising profiles adsync syncs. Amazon lists every profile
 * the credentials reach; an agency rarely wants all of them. The selection is kept on
 * the account (accounts.profile_selection) and applied at discovery: what Amazon can
 * filter is asked of Amazon (`accessLevel`, `profileTypeFilter` on GET /v2/profiles),
 * the rest (ids, marketplaces) here. A profile left out is recorded as `excluded` with
 * the reason, and no sync, report or poll ever calls Amazon for it.
 *
 * `accessLevel` defaults to `view`: adsync only reads, and profiles an advertiser shares
 * with an agency's manager account with Viewer permission are listed by Amazon only
 * with accessLevel=view (en-us/guides/account-management/authorization/manager-accounts.md,
 * …/profiles.md: "By default, the GET /profiles endpoint displays only profiles with
 * permission to view and edit campaigns").
 */
import type { ProfilesQuery } from '../amazon/model-types.ts';

export const PROFILE_TYPES = ['seller', 'vendor', 'agency'] as const;

export interface ProfileSelection {
  /** Only these profiles (when given). */
  includeProfileIds?: string[];
  excludeProfileIds?: string[];
  /** Only profiles in these marketplaces (Amazon marketplace ids, e.g. ATVPDKIKX0DER). */
  marketplaces?: string[];
  excludeMarketplaces?: string[];
  /** Only these account types; Amazon filters (profileTypeFilter). */
  profileTypes?: (typeof PROFILE_TYPES)[number][];
  /** The permission a profile must grant: view (default, includes Viewer-shared profiles) or edit. */
  accessLevel?: 'view' | 'edit';
  /** Only these Amazon DSP advertisers (when given); the same rule as includeProfileIds. */
  includeDspAdvertiserIds?: string[];
  excludeDspAdvertiserIds?: string[];
}

const ids = { type: 'array', maxItems: 1000, uniqueItems: true, items: { type: 'string', pattern: '^\\d{1,20}$' } };
const marketplaces = {
  type: 'array',
  maxItems: 100,
  uniqueItems: true,
  items: { type: 'string', pattern: '^[A-Z0-9]{6,20}$' },
};

/** The JSON schema of a selection, for the API. */
export const PROFILE_SELECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    includeProfileIds: ids,
    excludeProfileIds: ids,
    marketplaces,
    excludeMarketplaces: marketplaces,
    profileTypes: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: [...PROFILE_TYPES] },
    },
    accessLevel: { type: 'string', enum: ['view', 'edit'] },
    includeDspAdvertiserIds: ids,
    excludeDspAdvertiserIds: ids,
  },
} as const;

/**
 * What Amazon is asked to filter (GET /v2/profiles query). The Profiles model takes one
 * profileTypeFilter value, so Amazon is asked to filter only a selection of one type; a
 * selection of several is filtered here (`selected`).
 */
export function amazonProfileQuery(s: ProfileSelection): ProfilesQuery {
  return {
    accessLevel: s.accessLevel ?? 'view',
    ...(s.profileTypes?.length === 1 ? { profileTypeFilter: s.profileTypes[0] } : {}),
  };
}

/** Whether a discovered profile is selected, and if not, the reason a human reads. */
export function selected(
  s: ProfileSelection,
  p: { profile_id: string; marketplace_id: string | null; account_type: string | null },
): { selected: true } | { selected: false; reason: string } {
  const byId = byIds(p.profile_id, s.includeProfileIds, s.excludeProfileIds, 'ProfileIds');
  if (!byId.selected) return byId;
  if (s.marketplaces?.length && !s.marketplaces.includes(p.marketplace_id ?? ''))
    return {
      selected: false,
      reason: `marketplace ${p.marketplace_id ?? '(none)'} is not among the account's marketplaces`,
    };
  if (p.marketplace_id && s.excludeMarketplaces?.includes(p.marketplace_id))
    return { selected: false, reason: `marketplace ${p.marketplace_id} is in excludeMarketplaces` };
  if (s.profileTypes?.length && !s.profileTypes.includes((p.account_type ?? '') as never))
    return {
      selected: false,
      reason: `account type ${p.account_type ?? '(none)'} is not among the account's profileTypes`,
    };
  return { selected: true };
}

/** Whether a discovered DSP advertiser is selected, and if not, the reason a human reads. */
export function dspAdvertiserSelected(
  s: ProfileSelection,
  advertiserId: string,
): { selected: true } | { selected: false; reason: string } {
  return byIds(advertiserId, s.includeDspAdvertiserIds, s.excludeDspAdvertiserIds, 'DspAdvertiserIds');
}

type Selected = { selected: true } | { selected: false; reason: string };

/** The include/exclude-by-id rule profiles and DSP advertisers share: an include list, when given, is the whole set. */
function byIds(id: string, include: string[] | undefined, exclude: string[] | undefined, name: string): Selected {
  if (include?.length && !include.includes(id))
    return { selected: false, reason: `not among the account's include${name}` };
  if (exclude?.includes(id)) return { selected: false, reason: `in exclude${name}` };
  return { selected: true };
}
