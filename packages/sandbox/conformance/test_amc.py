"""
AMC reporting calls, replayed from Amazon's own documented examples.

No independent AMC client installs here: python-amazon-ad-api has no AMC module, and the only
PyPI package with AMC calls (amazon-ads-api 1.0.0) does not import on Python 3.11. So the
requests below are Amazon's: the bodies, headers and paths of the guide pages under
en-us/guides/amazon-marketing-cloud/reporting/ (create-workflow.md, execute-workflow.md,
ad-hoc-workflow.md, get-your-results.md) and Amazon's sample notebook
(amzn/ads-advanced-tools-docs, amazon_marketing_cloud/AMC_API_sample_python_collection.ipynb),
sent with plain HTTP. The answers are checked against the shapes those pages show.
"""
import datetime
import time

import pytest
import requests

from conftest import CLIENT_ID, SANDBOX, access_token

INSTANCE = "amcconformance1"


def in_retention(start: str, end: str) -> tuple[str, str]:
    """A guide's example window moved by whole years to the latest year it has fully happened in.

    AMC holds the last 13 months of data (how-amc-works.md), so a 2023 example window asked
    today would be refused; its month, day and time are kept.
    """
    today = datetime.date.today()
    years = today.year - int(end[:4])
    if datetime.date.fromisoformat(f"{today.year}{end[4:10]}") > today:
        years -= 1
    move = lambda s: f"{int(s[:4]) + years}{s[4:]}"
    return move(start), move(end)


@pytest.fixture(scope="module")
def amc():
    headers = {
        # make-your-first-call.md, "Header parameters" (the samples spell ClientID with a capital D).
        "Amazon-Advertising-API-ClientID": CLIENT_ID,
        "Authorization": f"Bearer {access_token()}",
        "Amazon-Advertising-API-AdvertiserId": "ENTITY1AA1AA11AAA1",
        "Amazon-Advertising-API-MarketplaceId": "ATVPDKIKX0DER",
        "Content-Type": "application/json",
    }
    base = f"{SANDBOX}/amc/reporting/{INSTANCE}"

    class Amc:
        def post(self, path, body):
            return requests.post(base + path, json=body, headers=headers, timeout=30)

        def get(self, path, **params):
            return requests.get(base + path, params=params, headers=headers, timeout=30)

        def put(self, path, body):
            return requests.put(base + path, json=body, headers=headers, timeout=30)

        def delete(self, path):
            return requests.delete(base + path, headers=headers, timeout=30)

    requests.post(f"{SANDBOX}/_sandbox/faults", json={"amcExecutionMs": 400}, timeout=10)
    return Amc()


def test_workflow_create_get_list_update_delete(amc):
    # create-workflow.md: workflowId + a single-line sqlQuery; 200 OK.
    sql = "SELECT campaign, SUM(total_purchases) AS total_orders_9d FROM amazon_attributed_events_by_traffic_time WHERE SECONDS_BETWEEN(traffic_event_dt_utc, conversion_event_dt_utc) <= 60 * 60 * 24 * 9 GROUP BY campaign"
    r = amc.post("/workflows", {"distinctUserCountColumn": "du_count", "filteredMetricsDiscriminatorColumn": "filtered", "filteredReasonColumn": "true", "sqlQuery": sql, "workflowId": "my-first-workflow"})
    assert r.status_code == 200, r.text
    # create-workflow.md, custom parameters.
    r = amc.post("/workflows", {"workflowId": "workflowWithCustomParams", "sqlQuery": "Insert SQL query", "inputParameters": [{"name": "myCustomParameter1", "dataType": "INTEGER", "columnType": "DIMENSION", "defaultValue": 20, "description": "Enter description for parameter"}]})
    assert r.status_code == 200, r.text
    got = amc.get("/workflows/my-first-workflow").json()
    assert got["workflowId"] == "my-first-workflow" and got["sqlQuery"] == sql
    listed = amc.get("/workflows").json()["workflows"]
    assert {"my-first-workflow", "workflowWithCustomParams"} <= {w["workflowId"] for w in listed}
    # "It uses the same structure as the create workflow request, except that it requires the workflowId field."
    assert amc.put("/workflows/workflowWithCustomParams", {"workflowId": "workflowWithCustomParams", "sqlQuery": "SELECT 1"}).status_code == 200
    assert amc.get("/workflows/workflowWithCustomParams").json()["sqlQuery"] == "SELECT 1"
    assert amc.delete("/workflows/workflowWithCustomParams").status_code == 200
    assert amc.get("/workflows/workflowWithCustomParams").status_code == 404


def test_a_bad_workflow_id_is_a_400_with_code_and_details(amc):
    r = amc.post("/workflows", {"workflowId": "has spaces", "sqlQuery": "SELECT 1"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "400" and "workflowId" in body["details"]


def test_execute_saved_workflow_then_results(amc):
    # execute-workflow.md sample request (local New York times) and its answer's shape.
    start, end = in_retention("2023-05-20T00:00:00", "2023-08-03T00:00:00")
    r = amc.post("/workflowExecutions", {"workflowId": "my-first-workflow", "timeWindowStart": start, "timeWindowEnd": end, "timeWindowType": "EXPLICIT", "timeWindowTimeZone": "America/New_York"})
    assert r.status_code == 200, r.text
    e = r.json()
    for field in ("createTime", "dataGaps", "executionCategory", "expireTime", "lastUpdatedTime", "parameterValues", "status", "timeWindowEnd", "timeWindowEndOriginal", "timeWindowStart", "timeWindowStartOriginal", "timeWindowTimeZoneOriginal", "workflowExecutionId", "workflowExecutionTimeoutSeconds", "workflowId"):
        assert field in e, field
    assert e["status"] == "PENDING"
    assert e["timeWindowStart"] == f"{start[:10]}T04:00:00Z", "the window is answered in UTC"
    assert e["timeWindowStartOriginal"] == start
    exec_id = e["workflowExecutionId"]
    # get-your-results.md: not ready yet.
    early = amc.get(f"/workflowExecutions/{exec_id}/downloadUrls")
    assert early.status_code == 400 and early.json()["details"] == f"Execution with ID {exec_id} is unavailable for download."
    seen = set()
    for _ in range(100):
        status = amc.get(f"/workflowExecutions/{exec_id}").json()["status"]
        seen.add(status)
        if status == "SUCCEEDED":
            break
        time.sleep(0.05)
    assert status == "SUCCEEDED" and seen <= {"PENDING", "RUNNING", "SUCCEEDED"}
    urls = amc.get(f"/workflowExecutions/{exec_id}/downloadUrls").json()["downloadUrls"]
    csv = requests.get(urls[0], timeout=30)
    assert csv.status_code == 200 and csv.text.splitlines()[0].count(",") >= 1
    listed = amc.get("/workflowExecutions", workflowId="my-first-workflow", minCreationTime="2020-01-01T00:00:00").json()["executions"]
    assert exec_id in {x["workflowExecutionId"] for x in listed}


def test_ad_hoc_and_notebook_style_executions_are_accepted(amc):
    # ad-hoc-workflow.md: a workflow object with its SQL, MOST_RECENT_WEEK.
    r = amc.post("/workflowExecutions", {"workflow": {"sqlQuery": "SELECT advertiser, campaign, sum(total_cost) as spend FROM dsp_impressions GROUP BY advertiser, campaign"}, "timeWindowType": "MOST_RECENT_WEEK"})
    assert r.status_code == 200, r.text
    assert r.json()["workflowId"].startswith("transient_")
    # Amazon's notebook sends booleans and numbers as strings, and times with Z.
    start, end = in_retention("2024-02-01T00:00:00Z", "2024-03-31T00:00:00Z")
    r = amc.post("/workflowExecutions", {"timeWindowStart": start, "timeWindowEnd": end, "timeWindowType": "EXPLICIT", "workflowId": "my-first-workflow", "ignoreDataGaps": "True", "workflowExecutionTimeoutSeconds": "86400"})
    assert r.status_code == 200, r.text
    # execute-workflow.md: DELETE cancels; the execution stays, CANCELLED.
    exec_id = r.json()["workflowExecutionId"]
    assert amc.delete(f"/workflowExecutions/{exec_id}").status_code == 200
    assert amc.get(f"/workflowExecutions/{exec_id}").json()["status"] == "CANCELLED"


def test_an_unknown_window_type_is_a_400(amc):
    r = amc.post("/workflowExecutions", {"workflowId": "my-first-workflow", "timeWindowType": "LAST_YEAR"})
    assert r.status_code == 400 and r.json()["code"] == "400"


def test_schedule_create_view_list_update_delete(amc):
    # schedule-workflow.md: the guide's create request, verbatim; 200 OK.
    body = {"aggregationHourUtc": 16, "aggregationPeriod": "Weekly", "aggregationStartDay": "Tuesday", "scheduleEnabled": True, "scheduleId": "my-first-schedule", "workflowId": "my-first-workflow"}
    r = amc.post("/schedules", body)
    assert r.status_code == 200, r.text
    got = amc.get("/schedules/my-first-schedule").json()
    assert {k: got[k] for k in body} == body
    assert "my-first-schedule" in {s["scheduleId"] for s in amc.get("/schedules").json()["schedules"]}
    # "The PUT operation … uses the same structure as the create schedule request."
    assert amc.put("/schedules/my-first-schedule", {**body, "scheduleEnabled": False}).status_code == 200
    assert amc.get("/schedules/my-first-schedule").json()["scheduleEnabled"] is False
    # Daily: "aggregationStartDay is not used"; the sandbox workshop sample (amc-sandbox.md) with its extra flags.
    daily = {"scheduleId": "my-sandbox-schedule", "workflowId": "my-first-workflow", "aggregationHourUtc": 12, "aggregationPeriod": "Daily", "scheduleEnabled": True, "requireSyntheticData": True, "disableAggregationControls": True}
    assert amc.post("/schedules", daily).status_code == 200
    assert "aggregationStartDay" not in amc.get("/schedules/my-sandbox-schedule").json()
    # The Workflow Management Service model: the period is Daily or Weekly.
    bad = amc.post("/schedules", {**daily, "scheduleId": "x", "aggregationPeriod": "Hourly"})
    assert bad.status_code == 400 and bad.json()["code"] == "400" and "aggregationPeriod" in bad.json()["details"]
    for sid in ("my-first-schedule", "my-sandbox-schedule"):
        assert amc.delete(f"/schedules/{sid}").status_code == 200
    assert amc.get("/schedules/my-first-schedule").status_code == 404


def test_a_scheduled_run_is_listed_by_workflow_and_creation_time(amc):
    # execute-workflow.md "View workflow executions": by workflowId and minCreationTime. A day passes on the
    # sandbox's clock (and back after), so the Daily schedule runs once; a token from before that day has expired.
    amc.post("/workflows", {"workflowId": "scheduled-wf", "sqlQuery": "SELECT 1"})
    r = amc.post("/schedules", {"scheduleId": "scheduled-daily", "workflowId": "scheduled-wf", "aggregationPeriod": "Daily", "aggregationHourUtc": 0, "scheduleEnabled": True})
    assert r.status_code == 200, r.text
    requests.post(f"{SANDBOX}/_sandbox/clock", json={"advanceMs": 86_400_000}, timeout=10)
    try:
        headers = {"Amazon-Advertising-API-ClientID": CLIENT_ID, "Authorization": f"Bearer {access_token()}", "Amazon-Advertising-API-AdvertiserId": "ENTITY1AA1AA11AAA1", "Amazon-Advertising-API-MarketplaceId": "ATVPDKIKX0DER"}
        listed = requests.get(f"{SANDBOX}/amc/reporting/{INSTANCE}/workflowExecutions", params={"workflowId": "scheduled-wf", "minCreationTime": "2020-01-01T00:00:00"}, headers=headers, timeout=30)
        assert listed.status_code == 200, listed.text
        runs = listed.json()["executions"]
        assert len(runs) == 1 and runs[0]["executionCategory"] != "AD_HOC"
        assert runs[0]["timeWindowEnd"].endswith("T00:00:00Z"), "a day ending at the schedule's hour (UTC)"
        assert requests.delete(f"{SANDBOX}/amc/reporting/{INSTANCE}/schedules/scheduled-daily", headers=headers, timeout=30).status_code == 200
    finally:
        requests.post(f"{SANDBOX}/_sandbox/clock", json={"advanceMs": -86_400_000}, timeout=10)
