"""
Amazon Attribution through python-amazon-ad-api's Attribution client (ad_api/api/attribution.py):
Amazon's model AmazonAttribution_prod_3p.json and en-us/guides/amazon-attribution/how-to.md decide
what is right. The client sends publisherIds as a list (repeated keys, the model's form style),
takes cursorId from every report answer, and sends the report request as application/json.
"""
import json
from datetime import date, timedelta

import requests
from ad_api.api import Attribution

from conftest import SANDBOX, make

END = (date.today() - timedelta(days=2)).strftime("%Y%m%d")
START = (date.today() - timedelta(days=6)).strftime("%Y%m%d")


def truth(profile_id, request):
    r = requests.post(f"{SANDBOX}/_sandbox/expected/attribution", json={"profileId": profile_id, "request": request}, timeout=30)
    r.raise_for_status()
    return r.json()["rows"]


def test_advertisers_publishers_and_tags_of_each_kind(profile_id):
    a = make(Attribution, profile_id)
    advertisers = a.get_advertisers().payload["advertisers"]
    assert len(advertisers) == 1 and advertisers[0]["advertiserId"]
    publishers = a.get_publishers().payload["publisher"]
    macro = [p["id"] for p in publishers if p["macroEnabled"]]
    plain = [p["id"] for p in publishers if not p["macroEnabled"]]
    assert macro and plain
    adv = advertisers[0]["advertiserId"]
    tags = a.get_macro_tag(publisherIds=macro, advertiserIds=[adv]).payload["advertiserAttributionTagMap"]
    assert set(tags[adv]) == set(macro)
    assert all(t.startswith("?maas=") and "{campaignid}" in t for t in tags[adv].values())
    templates = a.get_non_macro_template_tag(publisherIds=plain).payload["advertiserAttributionTagMap"]
    assert all("{insertCampaignId}" in t for t in templates[adv].values())


def test_a_report_paged_by_cursor_equals_the_sandbox(profile_id):
    a = make(Attribution, profile_id)
    adv = a.get_advertisers().payload["advertisers"][0]["advertiserId"]
    request = {"reportType": "PERFORMANCE", "groupBy": "CREATIVE", "advertiserIds": adv, "startDate": START, "endDate": END}
    rows, cursor = [], ""
    # Twice: the first pull of a day is restated by the second (how-to.md), whose numbers are final.
    for _ in range(2):
        rows, cursor = [], ""
        while True:
            resp = a.post_report(body={**request, "count": 7, "cursorId": cursor})
            rows += resp.payload["reports"]
            cursor = resp.next_token
            if not cursor:
                break
    want = truth(profile_id, request)
    assert len(rows) == len(want) > 7
    money = {"attributedSales14d", "totalAttributedSales14d", "kindleEditionNormalizedPagesRoyalties14d"}
    as_sent = [{k: (f"{v / 100:.2f}" if k in money else str(v)) if isinstance(v, (int, float)) else v for k, v in r.items()} for r in want]
    assert rows == as_sent


def test_bad_requests_are_400s_in_the_models_error_shape(profile_id):
    a = make(Attribution, profile_id)
    for body in (
        {"reportType": "PRODUCTS", "groupBy": "ADGROUP", "startDate": START, "endDate": END},
        {"reportType": "PERFORMANCE", "metrics": "brb_bonus_amount", "startDate": START, "endDate": END},
        {"reportType": "PERFORMANCE", "startDate": "2026-01-01", "endDate": END},
    ):
        r = requests.post(
            f"{SANDBOX}/attribution/report",
            data=json.dumps(body),
            headers={**a.headers, "Content-Type": "application/json"},
            timeout=30,
        )
        assert r.status_code == 400, body
        assert r.json()["code"] == "400" and r.json()["details"]
