"""Login with Amazon and profiles (en-us/guides/account-management/authorization/access-tokens.md, .../profiles.md)."""
import pytest
import requests
from ad_api.api import Profiles
from ad_api.auth.exceptions import AuthorizationError
from ad_api.base import Marketplaces

from conftest import CLIENT_ID, SANDBOX, make


def test_refresh_grant_gives_an_access_token_the_api_accepts(profiles):
    # The client exchanged the refresh token itself (grant_type=refresh_token) and used the token.
    assert len(profiles) >= 2


def test_a_revoked_refresh_token_is_invalid_grant():
    requests.post(f"{SANDBOX}/_sandbox/revoke", json={"refreshToken": "Atzr|revoked-for-conformance"}, timeout=10)
    c = Profiles(credentials={"refresh_token": "Atzr|revoked-for-conformance", "client_id": CLIENT_ID, "client_secret": "sandbox-client-secret"}, marketplace=Marketplaces.NA, verify_additional_credentials=False)
    c.endpoint = SANDBOX
    with pytest.raises(AuthorizationError) as e:
        c.list_profiles()
    assert (e.value.error_code, e.value.status_code) == ("invalid_grant", 400)


def test_profiles_are_a_bare_array_with_numeric_ids_and_lower_case_types(profiles):
    p = profiles[0]
    assert isinstance(p["profileId"], int)
    assert set(p) >= {"profileId", "countryCode", "currencyCode", "timezone", "accountInfo"}
    assert p["accountInfo"]["type"] in ("seller", "vendor", "agency")


def test_profile_type_filter_is_honoured(profiles):
    sellers = make(Profiles).list_profiles(profileTypeFilter="seller").payload
    assert sellers and all(p["accountInfo"]["type"] == "seller" for p in sellers)
    assert len(sellers) == sum(1 for p in profiles if p["accountInfo"]["type"] == "seller")
