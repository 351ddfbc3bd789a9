"""Fixtures of the gateway tests: the HTTP app of a toolkit, driven in process."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mg_tools import Policy, Toolkit
from mg_tools.mcp_server import http_app, http_identities
from mg_tools.settings import Settings

TOKENS = {"helpdesk": "tok-helpdesk-" + "h" * 16, "auditor": "tok-auditor-" + "a" * 16}
SINGLE = "tok-single-" + "s" * 16
#: Every call may be made, but a send to more than two recipients.
POLICY = (
    "permit (principal, action, resource);\n"
    'forbid (principal, action == Action::"send_message", resource) when { context.recipient_count > 2 };\n'
)


def write_identities(path: Path) -> Path:
    """The identities file: ``helpdesk`` may use the suppressions only, ``auditor`` only reads."""
    helpdesk, auditor = (hashlib.sha256(TOKENS[n].encode()).hexdigest() for n in ("helpdesk", "auditor"))
    path.write_text(
        f'[identities.helpdesk]\ntoken_sha256 = "{helpdesk}"\ngrants = "suppressions:*"\n\n'
        f'[identities.auditor]\ntoken_sha256 = "{auditor}"\nread_only = true\n'
    )
    return path


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[TestClient, Toolkit, Path]]:
    """The gateway of a sandbox toolkit with identities, a Cedar policy, confirmation of domain deletes
    and an audit trail: its test client, toolkit and audit file."""
    tmp = tmp_path_factory.mktemp("gateway")
    (tmp / "policy.cedar").write_text(POLICY)
    settings = Settings(
        identities=write_identities(tmp / "identities.toml"), http_token=SINGLE, audit=str(tmp / "audit.jsonl")
    )
    toolkit = Toolkit(
        sandbox=True,
        settings=settings,
        policy=Policy.build(confirm="domains:delete"),
        policy_file=tmp / "policy.cedar",
    )
    app = http_app(toolkit, extra_hosts=["testserver"], identities=http_identities(toolkit))
    with TestClient(app) as client:
        yield client, toolkit, tmp / "audit.jsonl"
    toolkit.close()
