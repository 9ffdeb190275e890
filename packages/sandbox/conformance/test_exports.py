"""
Exports (en-us/guides/exports/get-started.md): POST /{type}/export → 202 PROCESSING; status at
GET /exports/{exportId} with the type's media type in Accept; a presigned gzip JSON array of
common-model entities. Filters default to every ad product and ENABLED + PAUSED.
"""
import json
import time

import pytest
import requests
from ad_api.api import Exports

from conftest import SANDBOX, access_token, make, truth_export

TYPES = [("campaigns", "campaigns_export", "campaigns"), ("adGroups", "adgroups_export", "adgroups"), ("ads", "ads_export", "ads"), ("targets", "targets_export", "targets")]
PRODUCTS = [["SPONSORED_PRODUCTS"], ["SPONSORED_BRANDS"], ["SPONSORED_DISPLAY"], None]


def run_export(profile_id, method, media_name, body):
    c = make(Exports, profile_id)
    created = getattr(c, method)(body=json.dumps(body))
    assert created.payload["status"] == "PROCESSING"
    export_id = created.payload["exportId"]
    for _ in range(200):
        status = make(Exports, profile_id).get_export(export_id, media_name).payload
        if status["status"] == "COMPLETED":
            break
        time.sleep(0.05)
    assert status["status"] == "COMPLETED"
    assert {"exportId", "url", "urlExpiresAt", "fileSize", "generatedAt", "createdAt"} <= set(status)
    return c._download(c, params={"url": status["url"], "format": "data"}, headers={"User-Agent": c.user_agent}).payload


@pytest.mark.parametrize("export_type,method,media_name", TYPES, ids=[t[0] for t in TYPES])
@pytest.mark.parametrize("products", PRODUCTS, ids=["sp", "sb", "sd", "default-all"])
def test_export_every_type_for_every_ad_product(profile_id, export_type, method, media_name, products):
    body = {"stateFilter": ["ENABLED", "PAUSED", "ARCHIVED"]}
    if products:
        body["adProductFilter"] = products
    got = run_export(profile_id, method, media_name, body)
    want = truth_export(profile_id, export_type, body)
    assert got == want
    assert got, "the export is not empty"
    assert all(isinstance(x[{"campaigns": "campaignId", "adGroups": "adGroupId", "ads": "adId", "targets": "targetId"}[export_type]], str) for x in got)


def test_default_state_filter_is_enabled_and_paused(profile_id):
    got = run_export(profile_id, "campaigns_export", "campaigns", {})
    assert got and {x["state"] for x in got} <= {"ENABLED", "PAUSED"}
    assert got == truth_export(profile_id, "campaigns", {})


def test_status_needs_the_export_types_media_type(profile_id):
    created = make(Exports, profile_id).campaigns_export(body=json.dumps({})).payload
    headers = {"Authorization": f"Bearer {access_token()}", "Amazon-Advertising-API-ClientId": "amzn1.application-oa2-client.sandbox", "Amazon-Advertising-API-Scope": profile_id}
    wrong = requests.get(f"{SANDBOX}/exports/{created['exportId']}", headers={**headers, "Accept": "application/vnd.adsexport.v1+json"}, timeout=10)
    assert wrong.status_code == 406
    right = requests.get(f"{SANDBOX}/exports/{created['exportId']}", headers={**headers, "Accept": "application/vnd.campaignsexport.v1+json"}, timeout=10)
    assert right.status_code == 200


def test_an_unknown_ad_product_is_a_400(profile_id):
    from ad_api.base.exceptions import AdvertisingApiBadRequestException

    with pytest.raises(AdvertisingApiBadRequestException):
        make(Exports, profile_id).campaigns_export(body=json.dumps({"adProductFilter": ["SPONSORED_TV"]}))
