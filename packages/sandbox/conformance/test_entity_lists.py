"""
Entity lists, both pagination styles, against the generated world.

SP v3 and SB v4 lists page with maxResults/nextToken (SponsoredProducts_prod_3p; en-us/guides/
sponsored-brands/campaigns/managing-multi-ad-group-campaigns.md); Sponsored Display and SB v3
keywords page with startIndex/count and answer a bare array; portfolios are v3
(POST /portfolios/list — v2 is retired); budget rules page with pageSize/nextToken.
"""
import json

import pytest
from ad_api.api import PortfoliosV3
from ad_api.api import sponsored_brands as sb
from ad_api.api import sponsored_display as sd
from ad_api.api import sponsored_products as sp
from ad_api.base.exceptions import AdvertisingApiBadRequestException, AdvertisingApiException

from conftest import make, truth_entities

ALL_STATES = {"include": ["ENABLED", "PAUSED", "ARCHIVED"]}


def v3_all(list_call, key, page_size=3, states=ALL_STATES, **extra):
    """Every page of a v3 list, through the client, small pages so paging is exercised."""
    items, token = [], None
    while True:
        body = {"maxResults": page_size, "includeExtendedDataFields": True, **({"stateFilter": states} if states else {}), **extra}
        if token:
            body["nextToken"] = token
        payload = list_call(body=json.dumps(body)).payload
        items += payload[key]
        token = payload.get("nextToken")
        if not token:
            return items


SP_LISTS = [
    (sp.CampaignsV3, "list_campaigns", "campaigns", "campaign"),
    (sp.AdGroupsV3, "list_ad_groups", "adGroups", "adGroup"),
    (sp.ProductAdsV3, "list_product_ads", "productAds", "ad"),
    (sp.KeywordsV3, "list_keywords", "keywords", "keyword"),
    (sp.TargetsV3, "list_product_targets", "targetingClauses", "productTarget"),
    (sp.NegativeKeywordsV3, "list_negative_keywords", "negativeKeywords", "negativeKeyword"),
    (sp.NegativeTargetsV3, "list_negative_product_targets", "negativeTargetingClauses", "negativeTarget"),
    (sp.CampaignNegativeKeywordsV3, "list_campaign_negative_keywords", "campaignNegativeKeywords", "campaignNegativeKeyword"),
    # The client sends Content-Type application/vnd.spcampaignNegativeTargetingClause (lower-case c):
    # media types compare case-insensitively (RFC 6838), so Amazon — and the sandbox — accept it.
    (sp.CampaignNegativeTargets, "list_campaign_negative_targets", "campaignNegativeTargetingClauses", "campaignNegativeTarget"),
]


@pytest.mark.parametrize("cls,method,key,kind", SP_LISTS, ids=[x[2] for x in SP_LISTS])
def test_sp_v3_lists_page_through_every_entity(profile_id, cls, method, key, kind):
    got = v3_all(getattr(make(cls, profile_id), method), key)
    want = truth_entities("spV3", profile_id, kind, "sp")
    assert got == want


def test_sp_v3_state_filter_and_totals(profile_id):
    c = make(sp.CampaignsV3, profile_id)
    enabled = c.list_campaigns(body=json.dumps({"stateFilter": {"include": ["ENABLED"]}, "maxResults": 1000})).payload["campaigns"]
    want = [x for x in truth_entities("spV3", profile_id, "campaign", "sp") if x["state"] == "ENABLED"]
    assert [x["campaignId"] for x in enabled] == [x["campaignId"] for x in want]
    unfiltered = c.list_campaigns(body=json.dumps({"maxResults": 2})).payload
    assert unfiltered["totalResults"] == len(truth_entities("spV3", profile_id, "campaign", "sp"))
    assert isinstance(unfiltered["campaigns"][0]["campaignId"], str), "SP v3 ids are strings"


def test_sp_v3_wrong_type_is_a_400_invalid_argument_not_a_crash(profile_id):
    with pytest.raises(AdvertisingApiBadRequestException) as e:
        make(sp.CampaignsV3, profile_id).list_campaigns(body=json.dumps({"stateFilter": {"include": "ENABLED"}}))
    assert e.value.error["code"] == "INVALID_ARGUMENT"
    assert "stateFilter.include" in e.value.error["message"]


def test_portfolios_v3(profile_id):
    # Portfolios_prod_3p: stateFilter.include takes one state (maxItems 1); without it every portfolio is listed.
    got = v3_all(make(PortfoliosV3, profile_id).list_portfolios, "portfolios", states=None)
    assert got == truth_entities("portfolio", profile_id)
    assert got and all(isinstance(p["portfolioId"], str) for p in got)


SB_V4 = [
    (sb.CampaignsV4, "list_campaigns", "campaigns", "campaign"),
    (sb.AdGroupsV4, "list_ad_groups", "adGroups", "adGroup"),
    (sb.AdsV4, "list_ads", "ads", "ad"),
]


@pytest.mark.parametrize("cls,method,key,kind", SB_V4, ids=[x[2] for x in SB_V4])
def test_sb_v4_lists(profile_id, cls, method, key, kind):
    # The client sends Content-Type application/json with the versioned Accept, as Amazon's samples do.
    got = v3_all(getattr(make(cls, profile_id), method), key)
    assert got == truth_entities("sbV4", profile_id, kind, "sb")


def test_sb_v3_keywords_and_targets(profile_id):
    kws, start = [], 0
    while True:
        page = make(sb.Keywords, profile_id).list_keywords(startIndex=start, count=2, stateFilter="enabled,paused,archived").payload
        kws += page
        if len(page) < 2:
            break
        start += 2
    assert kws == truth_entities("sbV3", profile_id, "keyword", "sb")
    assert all(isinstance(k["keywordId"], int) and k["state"] in ("enabled", "paused", "archived") for k in kws)
    targets, token = [], None
    while True:
        body = {"maxResults": 2, **({"nextToken": token} if token else {})}
        page = make(sb.Targets, profile_id).list_products_targets(body=json.dumps(body)).payload
        targets += page["targets"]
        token = page.get("nextToken")
        if not token:
            break
    assert targets == truth_entities("sbV3", profile_id, "productTarget", "sb")


SD_LISTS = [
    (sd.Campaigns, "list_campaigns", "list_campaigns_extended", "campaign"),
    (sd.AdGroups, "list_ad_groups", "list_ad_groups_extended", "adGroup"),
    (sd.ProductAds, "list_product_ads", "list_product_ads_extended", "ad"),
    (sd.Targets, "list_products_targets", "list_products_targets_extended", "productTarget"),
    (sd.NegativeTargets, "list_negative_targets", "list_negative_targets_extended", "negativeTarget"),
]


@pytest.mark.parametrize("cls,plain,extended,kind", SD_LISTS, ids=[x[3] for x in SD_LISTS])
def test_sponsored_display_start_index_count(profile_id, cls, plain, extended, kind):
    for method, view in ((plain, "sd"), (extended, "sdExtended")):
        got, start = [], 0
        while True:
            page = getattr(make(cls, profile_id), method)(startIndex=start, count=3).payload
            got += page
            if len(page) < 3:
                break
            start += 3
        assert got == truth_entities(view, profile_id, kind, "sd"), method
    assert all(isinstance(x.get("campaignId", x.get("adGroupId")), int) for x in got), "SD ids are numbers"


def test_sponsored_display_creatives(profile_id):
    got = make(sd.Creatives, profile_id).list_creatives(count=100).payload
    assert got == truth_entities("sd", profile_id, "creative", "sd")


def test_sponsored_display_bad_state_filter_is_a_400(profile_id):
    with pytest.raises(AdvertisingApiBadRequestException):
        make(sd.Campaigns, profile_id).list_campaigns(stateFilter="alive")


@pytest.mark.parametrize("module", [sp, sd], ids=["sp", "sd"])
def test_budget_rules(profile_id, module):
    product = "sp" if module is sp else "sd"
    c = make(module.BudgetRules, profile_id)
    rules = c.list_budget_rules(pageSize=30).payload["budgetRulesForAdvertiserResponse"]
    assert rules == truth_entities("budgetRule", profile_id, "budgetRule", product)
    first_campaign = truth_entities("spV3" if product == "sp" else "sd", profile_id, "campaign", product)[0]["campaignId"]
    associated = c.get_budget_rules_campaign(first_campaign).payload["associatedRules"]
    assert [r["ruleId"] for r in associated] == [rules[0]["ruleId"]], "rule 0 is associated with campaign 0"


def test_budget_rules_need_page_size(profile_id):
    # GetSPBudgetRulesForAdvertiser: pageSize is required (max 30). python-amazon-ad-api's SB
    # list_budget_rules drops it (a client bug); Amazon, and the sandbox, refuse the call.
    with pytest.raises(AdvertisingApiException):
        make(sb.BudgetRules, profile_id).list_budget_rules(pageSize=30)
