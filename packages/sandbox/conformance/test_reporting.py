"""
Reporting API v3 (en-us/guides/reporting/v3/get-started.md and report-types/*.md).

The client sends Content-Type: application/json (not the vendor type), which Amazon accepts.
Each request below is one Amazon documents or one adsync loads; the rows the client downloads
must equal the sandbox's ground truth for the same request.
"""
import json
import time
from datetime import date, timedelta

import pytest
from ad_api.api import Reports
from ad_api.base.exceptions import AdvertisingApiBadRequestException, AdvertisingApiException

import requests

from conftest import SANDBOX, make, truth_report

END = (date.today() - timedelta(days=2)).isoformat()
START = (date.today() - timedelta(days=4)).isoformat()


@pytest.fixture
def slow_reports():
    requests.post(f"{SANDBOX}/_sandbox/faults", json={"reportGenerationMs": 60000}, timeout=10)
    yield
    requests.post(f"{SANDBOX}/_sandbox/faults", json={"reportGenerationMs": 100}, timeout=10)


def run(profile_id, request):
    c = make(Reports, profile_id)
    created = c.post_report(body=json.dumps(request)).payload
    assert created["status"] == "PENDING" and created["configuration"]["reportTypeId"] == request["configuration"]["reportTypeId"]
    for _ in range(400):
        status = make(Reports, profile_id).get_report(created["reportId"]).payload
        if status["status"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.05)
    assert status["status"] == "COMPLETED", status
    return c.download_report(url=status["url"], format="data").payload


def cfg(report_type, ad_product, group_by, columns, time_unit="DAILY", filters=None, start=START, end=END, fmt="GZIP_JSON"):
    c = {"adProduct": ad_product, "reportTypeId": report_type, "groupBy": group_by, "columns": columns, "timeUnit": time_unit, "format": fmt}
    if filters:
        c["filters"] = filters
    return {"name": f"conformance {report_type}", "startDate": start, "endDate": end, "configuration": c}


# The report types adsync loads, with the columns it asks for (packages/shared/src/amazon/report-catalog.ts),
# plus Amazon's own documented variants: two groupBys, SUMMARY, a filter.
REQUESTS = {
    "spCampaigns": cfg("spCampaigns", "SPONSORED_PRODUCTS", ["campaign"], ["date", "campaignId", "campaignName", "campaignStatus", "campaignBudgetCurrencyCode", "impressions", "clicks", "cost", "sales7d", "purchases7d", "unitsSoldClicks7d"]),
    "spAdvertisedProduct": cfg("spAdvertisedProduct", "SPONSORED_PRODUCTS", ["advertiser"], ["date", "campaignId", "adGroupId", "adId", "advertisedAsin", "advertisedSku", "impressions", "clicks", "cost", "sales7d", "purchases7d", "unitsSoldClicks7d"]),
    "spTargeting": cfg("spTargeting", "SPONSORED_PRODUCTS", ["targeting"], ["date", "campaignId", "adGroupId", "keywordId", "keyword", "matchType", "targeting", "keywordType", "impressions", "clicks", "cost", "sales7d", "purchases7d", "unitsSoldClicks7d"]),
    "spSearchTerm": cfg("spSearchTerm", "SPONSORED_PRODUCTS", ["searchTerm"], ["date", "campaignId", "adGroupId", "keywordId", "keyword", "searchTerm", "matchType", "impressions", "clicks", "cost", "sales7d", "purchases7d", "unitsSoldClicks7d"]),
    "sbCampaigns": cfg("sbCampaigns", "SPONSORED_BRANDS", ["campaign"], ["date", "campaignId", "campaignName", "campaignStatus", "impressions", "clicks", "cost", "sales", "purchases", "unitsSold"]),
    "sdCampaigns": cfg("sdCampaigns", "SPONSORED_DISPLAY", ["campaign"], ["date", "campaignId", "campaignName", "campaignStatus", "impressions", "clicks", "cost", "sales", "purchases", "unitsSold"]),
    # get-started.md "Sample request": two groupBys, SUMMARY, every purchase window.
    "spCampaigns-campaign+adGroup-summary": cfg("spCampaigns", "SPONSORED_PRODUCTS", ["campaign", "adGroup"], ["campaignId", "adGroupId", "impressions", "clicks", "cost", "purchases1d", "purchases7d", "purchases14d", "purchases30d", "startDate", "endDate"], "SUMMARY"),
    # get-started.md "Example request body using filters".
    "spCampaigns-filter": cfg("spCampaigns", "SPONSORED_PRODUCTS", ["campaign"], ["impressions", "clicks", "cost", "campaignId", "startDate", "endDate"], "SUMMARY", [{"field": "campaignStatus", "values": ["ENABLED", "PAUSED"]}]),
    # targeting.md "Sponsored Brands: Keywords only".
    "sbTargeting-keywords": cfg("sbTargeting", "SPONSORED_BRANDS", ["targeting"], ["adGroupId", "campaignId", "keywordId", "matchType", "keywordText", "impressions", "clicks", "cost", "startDate", "endDate"], "SUMMARY", [{"field": "keywordType", "values": ["BROAD", "PHRASE", "EXACT"]}]),
    # campaign.md: the SP attribution columns beyond our catalogue are accepted.
    "spCampaigns-same-sku": cfg("spCampaigns", "SPONSORED_PRODUCTS", ["campaign"], ["date", "campaignId", "purchasesSameSku7d", "attributedSalesSameSku30d", "campaignApplicableBudgetRuleName", "topOfSearchImpressionShare"]),
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_report_rows_equal_the_sandbox(profile_id, name):
    request = REQUESTS[name]
    got = run(profile_id, request)
    want = truth_report(profile_id, request)["rows"]
    assert got == want
    assert got, "the report has rows"
    if request["configuration"]["timeUnit"] == "SUMMARY":
        assert all("date" not in r for r in got)
        ids = [tuple(r.get(k) for k in ("campaignId", "adGroupId", "keywordId")) for r in got]
        assert len(set(ids)) == len(ids), "one row per entity for the window"


def test_a_column_amazon_does_not_document_is_refused_with_its_wording(profile_id):
    bad = cfg("sbCampaigns", "SPONSORED_BRANDS", ["campaign"], ["date", "campaignId", "sales7d"])
    with pytest.raises(AdvertisingApiBadRequestException) as e:
        make(Reports, profile_id).post_report(body=json.dumps(bad))
    assert e.value.error["code"] == "400"
    assert e.value.error["detail"].startswith("configuration columns includes invalid values: (sales7d)")


def test_a_wrongly_typed_configuration_is_a_400(profile_id):
    bad = cfg("spCampaigns", "SPONSORED_PRODUCTS", "campaign", ["date", "campaignId"])
    with pytest.raises(AdvertisingApiBadRequestException) as e:
        make(Reports, profile_id).post_report(body=json.dumps(bad))
    assert "configuration groupBy" in e.value.error["detail"]


def test_an_identical_request_in_flight_is_425_naming_the_report(profile_id, slow_reports):
    request = cfg("sdCampaigns", "SPONSORED_DISPLAY", ["campaign"], ["campaignId", "impressions", "startDate", "endDate"], "SUMMARY", start=START, end=START)
    first = make(Reports, profile_id).post_report(body=json.dumps(request)).payload
    with pytest.raises(AdvertisingApiException) as e:
        make(Reports, profile_id).post_report(body=json.dumps(request))
    assert e.value.code == 425
    assert e.value.error == {"code": "425", "detail": f"The Request is a duplicate of : {first['reportId']}"}
