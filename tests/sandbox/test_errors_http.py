"""Errors in Mailgun's shape: products the sandbox does not emulate answer 403 as for an account
without them, and bad input gets Mailgun's own wording."""

from __future__ import annotations

import pytest

from mg_tools.sandbox import DEFAULT_DOMAIN

D = DEFAULT_DOMAIN


@pytest.mark.parametrize(
    ("method", "path", "product"),
    [
        ("GET", "/v4/address/validate?address=a@example.com", "Validations"),
        ("POST", "/v4/address/validate/bulk/list1", "Validations"),
        ("GET", "/v1/thresholds/alerts/send", "Alerts"),
        ("GET", "/v4/inbox/results/abc", "Inbox Placement"),
        ("GET", "/v1/preview/tests/t1/results", "Email Preview"),
        ("GET", "/v1/reputationanalytics/snds", "Optimize"),
    ],
)
def test_products_not_emulated_answer_403(client, method, path, product):
    response = client.request(method, path)
    assert response.status_code == 403
    assert response.json() == {
        "message": f"Forbidden - this account has no access to {product}: the sandbox does not emulate it"
    }


def test_a_prefix_matches_whole_segments_only(client):
    response = client.get("/v4/addressbook")
    assert response.status_code == 404 and response.json()["message"].startswith("Not found: no endpoint")


def test_products_not_emulated_still_need_the_key(client):
    assert client.get("/v4/address/validate", auth=("api", "wrong")).status_code == 401
