/**
 * Which Amazon DSP advertisers a login reaches, the two ways Amazon documents:
 * - GET /dsp/advertisers (and /dsp/advertisers/{advertiserId}) under the scope of a DSP
 *   profile: the Profiles model says the `agency` account type "is associated with DSP",
 *   and the DSP advertisers model's scope header that the profile's accountInfo.type must be
 *   `agency`. The entity's advertisers, paged by startIndex and count.
 * - GET /managerAccounts: the manager accounts the login may use, with their linked accounts;
 *   a DSP advertiser linked to one (managed service) carries its `dspAdvertiserId`, which
 *   reports and Marketing Stream take in Amazon-Ads-AccountId (guides/reporting/dsp/creating-reports.md).
 * In the sandbox every profile's authorisation reaches one DSP advertiser (dataset.dspAdvertisers):
 * an agency profile's is listed under that profile; every other profile's is linked to the
 * login's one manager account.
 */
import type { SandboxState } from '../state.ts';
import type { Ctx, Endpoint } from './endpoint.ts';

/** The DSP advertisers model's currency, country and timezone enums cover every sandbox marketplace. */
function advertiserView(state: SandboxState, p: number) {
  const profile = state.dataset.profiles()[p]!;
  return state.dataset.dspAdvertisers(p).map((a) => ({
    advertiserId: a.advertiserId,
    name: a.name,
    currency: profile.currencyCode,
    url: `www.sandbox-dsp-${p + 1}.example.com`,
    country: profile.countryCode,
    timezone: profile.timezone,
  }));
}

/** A DSP profile: `agency`, and not Amazon Attribution's (the DspAdvertisers model's scope header). */
const isDspProfile = (state: SandboxState, p: number | null) => {
  const info = p === null ? undefined : state.dataset.profiles()[p]?.accountInfo;
  return info?.type === 'agency' && info.subType !== 'AMAZON_ATTRIBUTION';
};

/** Under a profile that is not a DSP one, Amazon refuses: the model's 403 (not authorised for the resource). */
function requireAgency(ctx: Ctx): boolean {
  if (isDspProfile(ctx.state, ctx.profile)) return true;
  ctx.fail(403, 'Forbidden: the profile in Amazon-Advertising-API-Scope is not a DSP (agency) profile');
  return false;
}

const NUMERIC = /^\d+$/;

export function dspAccountEndpoints(state: SandboxState): Endpoint[] {
  const ds = state.dataset;
  return [
    {
      method: 'GET',
      path: '/dsp/advertisers',
      doc: 'en-us/guides/dsp/advertisers (DspAdvertisers model: GET /dsp/advertisers)',
      summary: 'the DSP advertisers of the entity a DSP (agency) profile names',
      handle: (ctx) => {
        if (!requireAgency(ctx)) return;
        const filter = ctx.query.advertiserIdFilter as string | undefined;
        const ids = filter === undefined ? null : filter.split(',').map((s) => s.trim());
        // The model's own 422 example: "Each advertiserId must be a valid numeric id separated by comma."
        if (ids?.some((id) => !NUMERIC.test(id)))
          return ctx.fail(422, {
            message: 'Each advertiserId must be a valid numeric id separated by comma.',
            keyword: 'pattern',
            location: 'query.advertiserIdFilter',
          });
        const all = advertiserView(state, ctx.profile!).filter((a) => !ids || ids.includes(a.advertiserId));
        const start = (ctx.query.startIndex as number | undefined) ?? 0;
        const count = (ctx.query.count as number | undefined) ?? 100;
        ctx.ok({ totalResults: all.length, response: all.slice(start, start + count) });
      },
    },
    {
      method: 'GET',
      path: '/dsp/advertisers/{advertiserId}',
      doc: 'en-us/guides/dsp/advertisers (DspAdvertisers model: GET /dsp/advertisers/{advertiserId})',
      summary: 'one DSP advertiser of the entity a DSP (agency) profile names',
      handle: (ctx) => {
        if (!requireAgency(ctx)) return;
        const id = ctx.req.params.advertiserId!;
        if (!NUMERIC.test(id))
          return ctx.fail(422, {
            message: 'AdvertiserId must be a valid numeric id.',
            keyword: 'pattern',
            location: 'path.advertiserId',
          });
        const found = advertiserView(state, ctx.profile!).find((a) => a.advertiserId === id);
        if (!found) return ctx.fail(404, 'Resource Not Found');
        ctx.ok(found);
      },
    },
    {
      method: 'GET',
      path: '/managerAccounts',
      scope: false,
      doc: 'en-us/guides/account-management/authorization/manager-accounts.md (ManagerAccounts model)',
      summary: 'the manager accounts of the authorised user, with their linked accounts',
      handle: (ctx) => {
        const linked = ds
          .profiles()
          // Agency profiles (DSP entities, Amazon Attribution) are not linked as DSP advertising accounts.
          .filter((p) => p.accountInfo.type !== 'agency')
          .flatMap((p) =>
            ds.dspAdvertisers(p.index).map((a) => ({
              accountId: `ENTITY${a.advertiserId}`,
              accountName: a.name,
              accountType: 'DSP_ADVERTISING_ACCOUNT',
              dspAdvertiserId: a.advertiserId,
              marketplaceId: p.marketplaceStringId,
            })),
          )
          // The model: "A maximum of 50 linked accounts are returned for each manager account."
          .slice(0, 50);
        ctx.ok({
          managerAccounts: [
            {
              managerAccountId: `amzn1.ads1.ma1.sandbox${ds.seed}`,
              managerAccountName: 'Sandbox manager account',
              linkedAccounts: linked,
            },
          ],
        });
      },
    },
  ];
}
