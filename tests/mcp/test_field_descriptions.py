"""Every argument of every tool is understood from its schema alone.

A field needs a description unless its name, type and enum already say what to pass. The names that do
are listed here, reviewed one by one; ``tool.field`` exempts a name in one tool only (elsewhere the same
name needs its description). A description costs tokens on every tools/list answer, so a name earns its
place here when a description would only restate it.
"""

from __future__ import annotations

from typing import Any

import pytest

from mg_tools import Policy, Toolkit
from mg_tools.mcp_server import instructions
from mg_tools.schema import input_schema

SELF_EXPLAINING = frozenset(
    {
        # the naming vocabulary and paging
        "domain",
        "address",
        "list_address",
        "template_name",
        "template_version",
        "limit",
        "skip",
        "cursor",
        "sort",
        "sort_by",
        "sort_order",
        "pagination",  # its parts carry their own descriptions
        # ids and names of the thing a tool is about
        "id",
        "name",
        "description",
        "tag",
        "ip",
        "ips",
        "add_ips",
        "remove_ips",
        "pool_id",
        "replacement_pool_id",
        "pool_name",
        "pool_names",
        "moved_to",
        "moved_from",
        "subaccount_id",
        "user_id",
        "user_name",
        "user_email",
        "key_id",
        "selector",
        "dkim_selector",
        "dkim_key_size",
        "ip_band",
        "recipient",
        "role",
        "kind",
        "state",
        "type",
        "group",
        "event",
        "events",
        "metrics",
        "resolution",
        "records",  # each item carries its description
        # message parts
        "subject",
        "text",
        "html",
        "amp_html",
        "cc",
        "bcc",
        "attachments",  # each item carries its description
        "dkim",
        "tracking",
        "tracking_clicks",
        "tracking_opens",
        "sending_ip",
        # filters named after what they match
        "provider",
        "device",
        "country",
        # switches and free text whose name is the whole story
        "include_subaccounts",
        "include_metrics",
        "rotation_enabled",
        "subscribed",
        "sending",
        "validations",
        "validations_bulk",
        "email_preview",
        "inbox_placement",
        "comment",
        "created_by",
        "reason",
        "note",
        "logout_redirect_url",
        "good_reputation",
        "poor_reputation",
        "new_senders",
        # in these tools only
        "send_message.tags",
        "send_mime_message.tags",
        "send_batch.recipients",
        "send_batch.sender",
        "update_click_tracking.active",
        "update_open_tracking.active",
        "update_unsubscribe_tracking.active",
    }
)


#: Every tool exposed, the sensitive areas included.
ALL_GRANTS = "*:*,keys,credentials,users,account,subaccounts,ip_allowlist"


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return Toolkit(sandbox=True, policy=Policy.build(grants=ALL_GRANTS))


@pytest.fixture(scope="module")
def schemas(toolkit) -> dict[str, dict[str, Any]]:
    return {op.name: input_schema(op.params) for op in toolkit.operations()}


def undescribed(schemas: dict[str, dict[str, Any]]) -> list[str]:
    return [
        f"{tool}.{field}"
        for tool, schema in schemas.items()
        for field, prop in schema.get("properties", {}).items()
        if "description" not in prop
    ]


def test_every_field_is_described_or_self_explaining(schemas):
    missing = sorted(
        name
        for name in undescribed(schemas)
        if name not in SELF_EXPLAINING and name.split(".")[1] not in SELF_EXPLAINING
    )
    assert not missing, f"describe these fields (or, if name and type say it all, list them here): {missing}"


def test_every_exemption_is_still_used(schemas):
    used = {part for name in undescribed(schemas) for part in (name, name.split(".")[1])}
    assert not SELF_EXPLAINING - used, (
        f"no undescribed field has these names any more: {sorted(SELF_EXPLAINING - used)}"
    )


def test_every_tool_is_checked(toolkit, schemas):
    assert sorted(schemas) == sorted(op.name for op in toolkit.registry)


def test_the_server_instructions_explain_cursor_once_for_every_tool(toolkit):
    assert "pass it back as cursor" in instructions(toolkit, "all")
