"""
Amazon Marketing Stream subscriptions through python-amazon-ad-api's Stream client
(ad_api/api/stream.py), and the SQS side read with plain SQS query calls against the stack's
ElasticMQ: Amazon's pages en-us/guides/amazon-marketing-stream/managing-subscriptions.md and
onboarding/sqs/get-started.md decide what is right.
"""
import json
import os
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
from ad_api.api import Stream
from ad_api.base import AdvertisingApiException

from conftest import make

SQS = os.environ["SQS_ENDPOINT"]
NS = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}


def sqs(action, queue_url=None, **params):
    r = requests.post(queue_url or SQS, data={"Action": action, **params}, timeout=30)
    r.raise_for_status()
    return ET.fromstring(r.text)


@pytest.fixture(scope="module")
def queue():
    name = f"conformance-{uuid.uuid4().hex[:12]}"
    url = sqs("CreateQueue", QueueName=name).find(".//sqs:QueueUrl", NS).text
    arn = sqs("GetQueueAttributes", url, **{"AttributeName.1": "QueueArn"}).find(".//sqs:Value", NS).text
    yield {"url": url, "arn": arn}
    sqs("DeleteQueue", url)


def receive(url):
    out = []
    for m in sqs("ReceiveMessage", url, MaxNumberOfMessages="10", WaitTimeSeconds="1").findall(".//sqs:Message", NS):
        out.append(json.loads(m.find("sqs:Body", NS).text))
        sqs("DeleteMessage", url, ReceiptHandle=m.find("sqs:ReceiptHandle", NS).text)
    return out


def test_subscribe_confirm_through_sqs_list_get_and_archive(profile_id, queue):
    stream = make(Stream, profile_id)
    token = str(uuid.uuid4())
    # managing-subscriptions.md: the create request's fields; the answer names the subscription.
    created = stream.create_subscription(body={"clientRequestToken": token, "dataSetId": "sp-traffic", "destinationArn": queue["arn"], "notes": "conformance"}).payload
    assert created["clientRequestToken"] == token and created["subscriptionId"].startswith("amzn1.fead.cs1.")
    sid = created["subscriptionId"]
    # "Should request be re-tried, the caller should supply the same value": the same subscription.
    again = stream.create_subscription(body={"clientRequestToken": token, "dataSetId": "sp-traffic", "destinationArn": queue["arn"]}).payload
    assert again["subscriptionId"] == sid
    got = stream.get_subscription(sid).payload["subscription"]
    assert got["status"] == "PENDING_CONFIRMATION" and got["dataSetId"] == "sp-traffic" and got["destinationArn"] == queue["arn"]
    # get-started.md: an SNS SubscriptionConfirmation arrives on the queue; a GET of its SubscribeURL confirms.
    confirmations = [m for m in receive(queue["url"]) if m.get("Type") == "SubscriptionConfirmation"]
    assert len(confirmations) == 1
    c = confirmations[0]
    assert {"Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"} <= set(c)
    assert "Action=ConfirmSubscription" in c["SubscribeURL"] and c["Token"] in c["SubscribeURL"]
    r = requests.get(c["SubscribeURL"], timeout=30)
    assert r.status_code == 200 and "<ConfirmSubscriptionResponse" in r.text
    assert stream.get_subscription(sid).payload["subscription"]["status"] == "ACTIVE"
    listed = stream.list_subscriptions(maxResults=10).payload["subscriptions"]
    assert sid in {s["subscriptionId"] for s in listed}
    # One live subscription per advertiser, dataSetId and destination.
    with pytest.raises(AdvertisingApiException) as e:
        stream.create_subscription(body={"clientRequestToken": str(uuid.uuid4()), "dataSetId": "sp-traffic", "destinationArn": queue["arn"]})
    assert e.value.code == 409
    # There is no delete: PUT status ARCHIVED, 200.
    stream.update_subscription(sid, body={"status": "ARCHIVED"})
    assert stream.get_subscription(sid).payload["subscription"]["status"] == "ARCHIVED"
    # A dataset record published now reaches the queue no more.
    requests.post(f"{os.environ['SANDBOX_URL']}/_sandbox/stream/publish", json={"hours": 1}, timeout=60).raise_for_status()
    assert receive(queue["url"]) == []


def test_an_active_subscription_delivers_records_in_the_dataset_schema(profile_id, queue):
    stream = make(Stream, profile_id)
    sid = stream.create_subscription(body={"clientRequestToken": str(uuid.uuid4()), "dataSetId": "sp-conversion", "destinationArn": queue["arn"]}).payload["subscriptionId"]
    (c,) = [m for m in receive(queue["url"]) if m.get("Type") == "SubscriptionConfirmation"]
    requests.get(c["SubscribeURL"], timeout=30).raise_for_status()
    requests.post(f"{os.environ['SANDBOX_URL']}/_sandbox/stream/publish", json={"hours": 3}, timeout=60).raise_for_status()
    records = [json.loads(m["Message"]) for m in receive(queue["url"]) if m.get("Type") == "Notification"]
    assert records, "records arrived"
    # datasets/sp-conversion.md: the fields, ISO 8601 hours with the profile's offset.
    for r in records:
        assert r["dataset_id"] == "sp-conversion"
        assert {"idempotency_id", "marketplace_id", "currency", "advertiser_id", "campaign_id", "ad_group_id", "ad_id", "keyword_id", "time_window_start"} <= set(r)
        assert {"attributed_conversions_1d", "attributed_sales_7d", "attributed_units_ordered_30d_same_sku"} <= set(r)
        assert r["time_window_start"][13:19] == ":00:00" and r["time_window_start"][19] in "+-"
    stream.update_subscription(sid, body={"status": "ARCHIVED"})


def test_bad_subscription_requests_are_400s(profile_id, queue):
    stream = make(Stream, profile_id)
    for body in (
        {"clientRequestToken": str(uuid.uuid4()), "dataSetId": "sp-hourly", "destinationArn": queue["arn"]},
        {"clientRequestToken": "short", "dataSetId": "sp-traffic", "destinationArn": queue["arn"]},
        {"clientRequestToken": str(uuid.uuid4()), "dataSetId": "sp-traffic", "destinationArn": "not-an-arn-at-all-really"},
    ):
        with pytest.raises(AdvertisingApiException) as e:
            stream.create_subscription(body=body)
        assert e.value.code == 400
    with pytest.raises(AdvertisingApiException) as e:
        stream.update_subscription("amzn1.fead.cs1.nope", body={"status": "ARCHIVED"})
    assert e.value.code == 404


@pytest.mark.parametrize(
    "dataset, fields",
    [
        # datasets/sb-performance.md: the clickstream and rich media schemas.
        ("sb-clickstream", {"idempotency_id", "time_window_start", "campaign_id", "ad_group_id", "ad_id", "keyword_id", "placement_type", "attributed_branded_searches_14d", "view_attributed_detail_page_views_14d"}),
        ("sb-rich-media", {"idempotency_id", "time_window_start", "campaign_id", "keyword_text", "video_5_second_views", "video_complete_views", "video_unmutes"}),
        # datasets/sponsored-ads-campaign-diagnostics-recommendations.md: the schema's top-level fields.
        ("sponsored-ads-campaign-diagnostics-recommendations", {"recommendation_id", "group_id", "apply_endpoint", "type", "published_date", "expiry_date", "explanation", "campaign_id", "campaign_name", "ad_product", "current_campaign_settings", "recommended_campaign_settings"}),
    ],
)
def test_the_newer_datasets_deliver_records_in_their_schema(profile_id, queue, dataset, fields):
    stream = make(Stream, profile_id)
    sid = stream.create_subscription(body={"clientRequestToken": str(uuid.uuid4()), "dataSetId": dataset, "destinationArn": queue["arn"]}).payload["subscriptionId"]
    (c,) = [m for m in receive(queue["url"]) if m.get("Type") == "SubscriptionConfirmation"]
    requests.get(c["SubscribeURL"], timeout=30).raise_for_status()
    requests.post(f"{os.environ['SANDBOX_URL']}/_sandbox/stream/publish", json={"hours": 8}, timeout=60).raise_for_status()
    records = []
    while batch := [json.loads(m["Message"]) for m in receive(queue["url"]) if m.get("Type") == "Notification"]:
        records += batch
    assert records, f"{dataset} records arrived"
    for r in records:
        assert r["dataset_id"] == dataset
        assert fields <= set(r), fields - set(r)
    stream.update_subscription(sid, body={"status": "ARCHIVED"})
