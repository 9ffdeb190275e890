/**
 * What the client sends and reads, typed from Amazon's own models (the types
 * packages/amazon-models generates from them; `pnpm run build` writes them). A field
 * the model does not have is a type error here, not a silent undefined at run time.
 * Type-only: nothing of the models is loaded when the client runs.
 */
import type { operations as SP } from '@adsync/amazon-models/types/SponsoredProducts';
import type { operations as SBv4 } from '@adsync/amazon-models/types/SponsoredBrandsV4';
import type { operations as SBv3 } from '@adsync/amazon-models/types/SponsoredBrandsV3';
import type { operations as SD } from '@adsync/amazon-models/types/SponsoredDisplay';
import type { operations as Portfolios } from '@adsync/amazon-models/types/Portfolios';
import type { operations as Profiles } from '@adsync/amazon-models/types/Profiles';
import type { operations as Exports } from '@adsync/amazon-models/types/Exports';
import type { operations as Reporting } from '@adsync/amazon-models/types/OfflineReport';
import type { operations as Stream } from '@adsync/amazon-models/types/MarketingStream';
import type { operations as Attribution } from '@adsync/amazon-models/types/Attribution';
import type { paths as DspAdvertisersPaths } from '@adsync/amazon-models/types/DspAdvertisers';
import type { operations as ManagerAccounts } from '@adsync/amazon-models/types/ManagerAccounts';
import type { operations as AdsApiV1 } from '@adsync/amazon-models/types/AdsApiV1';

/** The JSON body an operation takes (any of its media types: they share one schema here). */
export type RequestOf<O> = O extends { requestBody?: { content: infer C } } ? C[keyof C] : never;
/** The body of an operation's answer at a status. */
export type AnswerOf<O, S extends number = 200> = O extends { responses: infer R }
  ? S extends keyof R
    ? R[S] extends { content: infer C }
      ? C[keyof C]
      : never
    : never
  : never;
/** The query parameters an operation takes. */
export type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** The element type of a list under `key` (or of the answer itself, when it is an array). */
type ItemOf<T, K extends string | null = null> = K extends string
  ? T extends { [P in K]?: (infer I)[] }
    ? I
    : never
  : T extends (infer I)[]
    ? I
    : never;

export type AmazonProfileModel = ItemOf<AnswerOf<Profiles['listProfiles']>>;

/** Every entity adsync lists, by its kind (entities.ts), as the model of its list answers it. */
export interface EntityOf {
  portfolios: ItemOf<AnswerOf<Portfolios['ListPortfolios']>, 'portfolios'>;
  spCampaigns: ItemOf<AnswerOf<SP['ListSponsoredProductsCampaigns']>, 'campaigns'>;
  spAdGroups: ItemOf<AnswerOf<SP['ListSponsoredProductsAdGroups']>, 'adGroups'>;
  spProductAds: ItemOf<AnswerOf<SP['ListSponsoredProductsProductAds']>, 'productAds'>;
  spKeywords: ItemOf<AnswerOf<SP['ListSponsoredProductsKeywords']>, 'keywords'>;
  spProductTargets: ItemOf<AnswerOf<SP['ListSponsoredProductsTargetingClauses']>, 'targetingClauses'>;
  spNegativeKeywords: ItemOf<AnswerOf<SP['ListSponsoredProductsNegativeKeywords']>, 'negativeKeywords'>;
  spNegativeTargets: ItemOf<AnswerOf<SP['ListSponsoredProductsNegativeTargetingClauses']>, 'negativeTargetingClauses'>;
  spCampaignNegativeKeywords: ItemOf<
    AnswerOf<SP['ListSponsoredProductsCampaignNegativeKeywords']>,
    'campaignNegativeKeywords'
  >;
  spCampaignNegativeTargets: ItemOf<
    AnswerOf<SP['ListSponsoredProductsCampaignNegativeTargetingClauses']>,
    'campaignNegativeTargetingClauses'
  >;
  sbCampaigns: ItemOf<AnswerOf<SBv4['ListSponsoredBrandsCampaigns']>, 'campaigns'>;
  sbAdGroups: ItemOf<AnswerOf<SBv4['ListSponsoredBrandsAdGroups']>, 'adGroups'>;
  sbAds: ItemOf<AnswerOf<SBv4['ListSponsoredBrandsAds']>, 'ads'>;
  sbKeywords: ItemOf<AnswerOf<SBv3['listKeywords']>>;
  sbNegativeKeywords: ItemOf<AnswerOf<SBv3['listNegativeKeywords']>>;
  sbProductTargets: ItemOf<AnswerOf<SBv3['listTargets']>, 'targets'>;
  sbNegativeTargets: ItemOf<AnswerOf<SBv3['listNegativeTargets']>, 'negativeTargets'>;
  sdCampaigns: ItemOf<AnswerOf<SD['listCampaignsEx']>>;
  sdAdGroups: ItemOf<AnswerOf<SD['listAdGroupsEx']>>;
  sdProductAds: ItemOf<AnswerOf<SD['listProductAdsEx']>>;
  sdTargets: ItemOf<AnswerOf<SD['listTargetingClausesEx']>>;
  sdNegativeTargets: ItemOf<AnswerOf<SD['listNegativeTargetingClausesEx']>>;
  sdCreatives: ItemOf<AnswerOf<SD['listCreatives']>>;
  spBudgetRules: ItemOf<AnswerOf<SP['GetSPBudgetRulesForAdvertiser']>, 'budgetRulesForAdvertiserResponse'>;
  sbBudgetRules: ItemOf<AnswerOf<SBv4['GetSBBudgetRulesForAdvertiser']>, 'budgetRulesForAdvertiserResponse'>;
  sdBudgetRules: ItemOf<AnswerOf<SD['GetSDBudgetRulesForAdvertiser']>, 'budgetRulesForAdvertiserResponse'>;
}

/** A campaign a budget rule is associated with, per ad product. */
export interface BudgetRuleCampaignOf {
  sp: ItemOf<AnswerOf<SP['GetCampaignsAssociatedWithSPBudgetRule']>, 'associatedCampaigns'>;
  sb: ItemOf<AnswerOf<SBv4['GetCampaignsAssociatedWithSBBudgetRule']>, 'associatedCampaigns'>;
  sd: ItemOf<AnswerOf<SD['GetCampaignsAssociatedWithSDBudgetRule']>, 'associatedCampaigns'>;
}

/** List request bodies, by the family of list they go to. */
export type SpListBody = RequestOf<SP['ListSponsoredProductsCampaigns']> &
  RequestOf<SP['ListSponsoredProductsKeywords']> &
  RequestOf<SP['ListSponsoredProductsCampaignNegativeTargetingClauses']>;
export type PortfolioListBody = RequestOf<Portfolios['ListPortfolios']>;
export type SbV4ListBody = RequestOf<SBv4['ListSponsoredBrandsCampaigns']> & RequestOf<SBv4['ListSponsoredBrandsAds']>;
export type SbTargetListBody = RequestOf<SBv3['listTargets']>;
export type SbNegativeTargetListBody = RequestOf<SBv3['listNegativeTargets']>;
export type SbKeywordQuery = QueryOf<SBv3['listKeywords']>;
export type SbNegativeKeywordQuery = QueryOf<SBv3['listNegativeKeywords']>;
export type SdListQuery = QueryOf<SD['listCampaignsEx']>;
export type SdCreativeQuery = QueryOf<SD['listCreatives']>;
export type BudgetRulesQuery = QueryOf<SP['GetSPBudgetRulesForAdvertiser']>;
export type ProfilesQuery = QueryOf<Profiles['listProfiles']>;

export type ExportRequest = RequestOf<Exports['CampaignExport']>;
export type TargetExportRequest = RequestOf<Exports['TargetExport']>;
export type ExportStatus = AnswerOf<Exports['GetExport']>;
export type ExportCreated = AnswerOf<Exports['CampaignExport'], 202>;

export type CreateReportRequest = RequestOf<Reporting['createAsyncReport']>;
export type AsyncReport = AnswerOf<Reporting['getAsyncReport']>;

export type CreateSubscriptionRequest = RequestOf<Stream['CreateStreamSubscription']>;
export type CreateSubscriptionAnswer = AnswerOf<Stream['CreateStreamSubscription']>;
export type UpdateSubscriptionRequest = RequestOf<Stream['UpdateStreamSubscription']>;
export type SubscriptionList = AnswerOf<Stream['ListStreamSubscriptions']>;
export type SubscriptionOne = AnswerOf<Stream['GetStreamSubscription']>;
export type StreamSubscriptionModel = ItemOf<SubscriptionList, 'subscriptions'>;

// The DSP advertisers model names no operationIds: its operations are read by path.
export type DspAdvertisersPage = AnswerOf<DspAdvertisersPaths['/dsp/advertisers']['get']>;
export type DspAdvertiserModel = ItemOf<DspAdvertisersPage, 'response'>;
export type ManagerAccountsAnswer = AnswerOf<ManagerAccounts['getManagerAccountsForUser']>;

// Ads API v1 (AdsApiV1 model): the reads of Amazon DSP's entities.
export type V1CampaignPage = AnswerOf<AdsApiV1['QueryCampaign']>;
export type V1AdGroupPage = AnswerOf<AdsApiV1['QueryAdGroup']>;
export type V1AdPage = AnswerOf<AdsApiV1['QueryAd']>;
export type V1TargetPage = AnswerOf<AdsApiV1['QueryTarget']>;
export type V1QueryCampaign = RequestOf<AdsApiV1['QueryCampaign']>;

// Amazon Attribution (Attribution model): advertisers, publishers, tags and the synchronous report.
export type AttributionAdvertisers = AnswerOf<Attribution['getAdvertisersByProfile']>;
export type AttributionPublishers = AnswerOf<Attribution['getPublishers']>;
export type AttributionTags = AnswerOf<Attribution['getPublisherAttributionTagTemplate']>;
export type AttributionReportRequest = RequestOf<Attribution['getAttributionTagsByCampaign']>;
export type AttributionReportPage = AnswerOf<Attribution['getAttributionTagsByCampaign']>;
