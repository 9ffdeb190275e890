/**
 * Where the sandbox accepts (or answers) more than Amazon's model says, because
 * Amazon's guides, its own model in another place, or a widely used client show
 * Amazon doing so. Each entry names its evidence; docs/amazon-contract.md lists
 * them all (a test holds the two together). Everything else is the model.
 */
import { operationById, type ModelOperation } from '@adsync/amazon-models/operations';
import { ModelValidator, type SchemaPatch } from '@adsync/amazon-models/validate';

export interface Leniency {
  /** Stable name, listed in docs/amazon-contract.md. */
  id: string;
  /** The model operations it widens ("Model.operationId"). */
  operations: string[];
  what: string;
  evidence: string;
  /** Request media types accepted beside the model's. */
  requestMediaTypes?: string[];
  /** Schema changes, applied to a private copy of the model (requests and answers alike). */
  patch?: (op: ModelOperation) => SchemaPatch[];
  /** Report columns accepted beyond the report-type pages, with the type their values have. */
  reportColumns?: { reportTypeIds: string[]; columns: string[]; type: 'Integer' | 'Decimal' | 'String' }[];
}

/** A query parameter taking a comma-delimited list of the single values its enum names (any spacing). */
const commaListOf = (param: string, values: string[]) => (op: ModelOperation) => {
  const p = op.parameters.find((x) => x.name === param);
  if (!p) throw new Error(`${op.operationId} has no parameter ${param}`);
  const one = `(${values.join('|')})`;
  return [
    {
      model: op.model,
      pointer: p.schemaPointer,
      apply: (node: Record<string, unknown>) => {
        delete node.enum;
        node.pattern = `^\\s*${one}(\\s*,\\s*${one})*\\s*$`;
      },
    },
  ];
};

const SD_LISTS = [
  'listCampaigns',
  'listCampaignsEx',
  'listAdGroups',
  'listAdGroupsEx',
  'listProductAds',
  'listProductAdsEx',
  'listTargetingClauses',
  'listTargetingClausesEx',
  'listNegativeTargetingClauses',
  'listNegativeTargetingClausesEx',
].map((o) => `SponsoredDisplay.${o}`);

export const LENIENCIES: Leniency[] = [
  {
    id: 'report-create-json',
    operations: ['OfflineReport.createAsyncReport'],
    what: 'POST /reporting/reports takes Content-Type application/json beside application/vnd.createasyncreportrequest.v3+json',
    evidence:
      'python-amazon-ad-api 1.2.9 sends application/json (ad_api/api/reports.py through ad_api/base/client.py); Airbyte source-amazon-ads 7.x sends it too (manifest.yaml, report creation without a Content-Type, which requests sets to application/json)',
    requestMediaTypes: ['application/json'],
  },
  {
    id: 'report-formats',
    operations: ['OfflineReport.createAsyncReport', 'OfflineReport.getAsyncReport'],
    what: 'configuration.format takes CSV and XLSX beside GZIP_JSON (and a report echoes it)',
    evidence:
      "the model's own example DSPAudioAndVideoSummaryReport asks for CSV; the report-type pages list GZIP_JSON or CSV for DSP and gross-and-invalid-traffic types and GZIP_JSON or XLSX for audiences (en-us/guides/reporting/v3/report-types/*.md)",
    patch: (op) => [
      {
        model: op.model,
        pointer: '#/components/schemas/AsyncReportConfiguration/properties/format',
        apply: (node) => {
          node.enum = [...new Set([...(node.enum as string[]), 'CSV', 'XLSX'])];
        },
      },
    ],
  },
  {
    id: 'stream-media-types',
    operations: ['MarketingStream.CreateStreamSubscription', 'MarketingStream.UpdateStreamSubscription'],
    what: 'subscriptions take the guide’s media type and application/json beside the model’s application/vnd.amazonmarketingstreamsubscriptions.v1+json',
    evidence:
      'the guide sends application/vnd.MarketingStreamSubscriptions.StreamSubscriptionResource.v1.0+json (en-us/guides/amazon-marketing-stream/managing-subscriptions.md); python-amazon-ad-api 1.2.9 sends application/json (ad_api/api/stream.py)',
    requestMediaTypes: [
      'application/vnd.MarketingStreamSubscriptions.StreamSubscriptionResource.v1.0+json',
      'application/json',
    ],
  },
  {
    id: 'portfolios-json',
    operations: ['Portfolios.ListPortfolios'],
    what: 'POST /portfolios/list takes Content-Type application/json, and includeExtendedDataFields as the text "true" or "false"',
    evidence:
      'Airbyte source-amazon-ads 7.x, run daily against Amazon by many users, sends {"includeExtendedDataFields": "true"} as application/json (airbytehq/airbyte airbyte-integrations/connectors/source-amazon-ads/manifest.yaml, portfolios stream)',
    requestMediaTypes: ['application/json'],
    patch: (op) => [
      {
        model: op.model,
        pointer: '#/components/schemas/ListPortfoliosRequestContent/properties/includeExtendedDataFields',
        apply: (node) => {
          delete node.type;
          node.anyOf = [{ type: 'boolean' }, { type: 'string', enum: ['true', 'false'] }];
        },
      },
    ],
  },
  {
    id: 'sb-v4-list-media-types',
    operations: [
      'SponsoredBrandsV4.ListSponsoredBrandsCampaigns',
      'SponsoredBrandsV4.ListSponsoredBrandsAdGroups',
      'SponsoredBrandsV4.ListSponsoredBrandsAds',
    ],
    what: 'the SB v4 lists take a JSON body sent as Content-Type text/plain or application/json',
    evidence:
      'Amazon’s own sample sends Content-Type: text/plain with Accept: application/vnd.sbcampaignresource.v4+json (en-us/guides/sponsored-brands/campaigns/managing-multi-ad-group-campaigns.md); python-amazon-ad-api 1.2.9 sets only Accept, so its lists go as application/json (ad_api/api/sb/campaigns_v4.py, ad_groups_v4.py, ads_v4.py)',
    requestMediaTypes: ['text/plain', 'application/json'],
  },
  {
    id: 'sb-keywords-state-list',
    operations: ['SponsoredBrandsV3.listKeywords'],
    what: 'GET /sb/keywords stateFilter takes a comma-delimited list of enabled, paused, archived',
    evidence:
      'the model itself: the parameter is described as "one of the values in the specified comma-delimited list" and defaults to "enabled,paused", which its single-value enum does not list (SponsoredBrands_v3.yaml)',
    patch: commaListOf('stateFilter', ['enabled', 'paused', 'archived']),
  },
  {
    id: 'profiles-type-list',
    operations: ['Profiles.listProfiles'],
    what: 'GET /v2/profiles profileTypeFilter takes a comma-delimited list of seller, vendor, agency',
    evidence:
      'the model itself describes it as "the specified types in the comma-delimited list" beside a single-value enum (Profiles_prod_3p.yaml); Airbyte source-amazon-ads has sent profileTypeFilter=seller,vendor to Amazon on every run since 2021 (airbytehq/airbyte PR #6241; manifest.yaml of 7.x)',
    patch: commaListOf('profileTypeFilter', ['seller', 'vendor', 'agency']),
  },
  {
    id: 'sd-state-list',
    operations: SD_LISTS,
    what: 'the Sponsored Display lists’ stateFilter takes any comma-delimited list of enabled, paused, archived, with or without spaces',
    evidence:
      'the model itself describes it as "the specified comma-delimited list" and enumerates the combinations only with ", " between them (SponsoredDisplay_v3.yaml)',
    patch: commaListOf('stateFilter', ['enabled', 'paused', 'archived']),
  },
  {
    id: 'sd-lead-columns',
    operations: ['OfflineReport.createAsyncReport'],
    what: 'Sponsored Display campaign, ad group, targeting and advertised-product reports take the columns leads and leadFormOpens',
    evidence:
      'no Amazon page lists them (linkOuts, requested with them, is in en-us/guides/reporting/v3/columns.md for these four types and is accepted as documented); Airbyte source-amazon-ads 7.x, run daily against Amazon by many users, requests them on every Sponsored Display report (airbytehq/airbyte airbyte-integrations/connectors/source-amazon-ads/manifest.yaml)',
    reportColumns: [
      {
        reportTypeIds: ['sdCampaigns', 'sdAdGroup', 'sdTargeting', 'sdAdvertisedProduct'],
        columns: ['leads', 'leadFormOpens'],
        type: 'Integer',
      },
    ],
  },
  {
    id: 'sp-purchased-product-targeting',
    operations: ['OfflineReport.createAsyncReport'],
    what: 'spPurchasedProduct takes the column targeting',
    evidence:
      'columns.md lists targeting for spTargeting and spSearchTerm only; Airbyte source-amazon-ads 7.x requests it on its purchased-product streams (asins_targets) run daily against Amazon (airbytehq/airbyte airbyte-integrations/connectors/source-amazon-ads/manifest.yaml)',
    reportColumns: [{ reportTypeIds: ['spPurchasedProduct'], columns: ['targeting'], type: 'String' }],
  },
  {
    id: 'sd-targeting-expression-any-of',
    operations: [
      'SponsoredDisplay.listTargetingClauses',
      'SponsoredDisplay.listTargetingClausesEx',
      'SponsoredDisplay.getTargets',
      'SponsoredDisplay.getTargetsEx',
    ],
    what: 'a Sponsored Display targeting expression matches any of the model’s predicate kinds (anyOf), not exactly one (oneOf)',
    evidence:
      'the model’s own TargetingPredicate and TargetingPredicateLegacy both list asinSameAs, asinBrandSameAs, similarProduct and more, so under its oneOf no such expression could be valid; Amazon’s guides show them in answers (en-us/guides/sponsored-display/contextual-targeting.md)',
    patch: (op) => [
      {
        model: op.model,
        pointer: '#/components/schemas/TargetingExpression/items',
        apply: (node) => {
          node.anyOf = node.oneOf;
          delete node.oneOf;
        },
      },
    ],
  },
  {
    id: 'attribution-publisher-id',
    operations: ['Attribution.getPublishers'],
    what: 'a publisher’s id is text',
    evidence:
      'the model types Publisher.id as an object made of allOf two strings, which no value can be; its own tag resources take publisher ids as strings (publisherIds items) and key their tag maps by them, and how-to.md says to pass the ids from this list to them',
    patch: (op) => [
      {
        model: op.model,
        pointer: '#/components/schemas/Publisher/properties/id',
        apply: (node) => {
          node.type = 'string';
          delete node.allOf;
        },
      },
    ],
  },
];

function opOf(key: string): ModelOperation {
  const [model, operationId] = key.split('.') as [string, string];
  const op = operationById(model, operationId);
  if (!op) throw new Error(`a leniency names ${key}, which no model has`);
  return op;
}

/** Request media types a leniency adds to an operation. */
export function leniencyMediaTypes(op: ModelOperation): string[] {
  const key = `${op.model}.${op.operationId}`;
  return LENIENCIES.filter((l) => l.operations.includes(key)).flatMap((l) => l.requestMediaTypes ?? []);
}

/** The models as the sandbox holds requests and answers to them: Amazon's, with the leniencies above. */
export const SANDBOX_MODELS = new ModelValidator({
  // A leniency naming several operations that share a schema node patches it once; two
  // leniencies patching one node both apply.
  patches: LENIENCIES.flatMap((l) => {
    const seen = new Set<string>();
    return (l.patch ? l.operations.flatMap((key) => l.patch!(opOf(key))) : []).filter((p) => {
      const k = `${p.model}${p.pointer}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }),
});
