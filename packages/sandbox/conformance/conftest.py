"""
Conformance of the sandbox to Amazon's contract, judged by a client nobody here
wrote: python-amazon-ad-api (PyPI), pinned in deploy/local/python/requirements.txt.

Run by packages/sandbox/src/conformance.test.ts, which starts a sandbox and passes
its address in SANDBOX_URL. Every answer the client parses is compared with the
sandbox's own ground truth (/_sandbox/...), so a sandbox that serves the wrong
shape, drops an entity or pages badly fails here, whatever our own client thinks.
Where this client and the sandbox disagree, Amazon's docs decide: each test cites
the page it follows (idealerror/amazon-ads-api-docs paths).
"""
import os
from urllib.parse import urlparse

import pytest
import requests
from ad_api.base import Marketplaces  # imported first: ad_api.auth and ad_api.base import each other
from ad_api.auth import AccessTokenClient

SANDBOX = os.environ["SANDBOX_URL"].rstrip("/")
CLIENT_ID = "amzn1.application-oa2-client.sandbox"
CLIENT_SECRET = "sandbox-client-secret"
REFRESH_TOKEN = "Atzr|python-amazon-ad-api-conformance"

# The client hard-codes https://api.amazon.com for Login with Amazon and the
# regional hosts for the API; point both at the sandbox, change nothing else.
AccessTokenClient.scheme = "http://"
AccessTokenClient.host = urlparse(SANDBOX).netloc


def make(cls, profile_id=None, **extra):
    credentials = {"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    if profile_id is not None:
        credentials["profile_id"] = str(profile_id)
    # Calls above profile level (GET /v2/profiles) carry no profile; the client then must not insist on one.
    c = cls(credentials=credentials, marketplace=Marketplaces.NA, verify_additional_credentials=profile_id is not None, **extra)
    c.endpoint = SANDBOX
    return c


def truth_entities(view, profile_id, kind="campaign", product=""):
    r = requests.get(f"{SANDBOX}/_sandbox/entities", params={"view": view, "profileId": profile_id, "kind": kind, "product": product}, timeout=30)
    r.raise_for_status()
    return r.json()


def truth_export(profile_id, export_type, filters):
    r = requests.post(f"{SANDBOX}/_sandbox/expected/export", json={"profileId": profile_id, "type": export_type, "filters": filters}, timeout=60)
    r.raise_for_status()
    return r.json()


def truth_report(profile_id, request):
    r = requests.post(f"{SANDBOX}/_sandbox/expected/report", json={"profileId": profile_id, "request": request}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def access_token():
    r = requests.post(f"{SANDBOX}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


@pytest.fixture(scope="session")
def profiles():
    from ad_api.api import Profiles

    return make(Profiles).list_profiles().payload


@pytest.fixture(scope="session")
def profile_id(profiles):
    return str(profiles[0]["profileId"])
