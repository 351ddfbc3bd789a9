import dataclasses
import fnmatch

import pytest

from mg_tools import Access, ConfigurationError, Operation, Policy, PolicyDenied, Toolkit
from mg_tools.operation import SENSITIVE_AREAS
from mg_tools.registry import Registry, make_plugin_manager
from mg_tools.types import Params


class P(Params):
    """x."""


def op(name, area, access, method="GET"):
    return Operation(name, method, "/x", P, access, area=area)


SEND = op("send_message", "messages", Access.SEND, "POST")
LIST = op("list_bounces", "suppressions", Access.READ)
DELETE = op("delete_bounce", "suppressions", Access.DELETE, "DELETE")
KEY_CREATE = op("create_key", "keys", Access.WRITE, "POST")
KEY_LIST = op("list_keys", "keys", Access.READ)


def test_default_grants_everything_but_sensitive_writes():
    policy = Policy()
    assert all(policy.exposes(o) for o in (SEND, LIST, DELETE, KEY_LIST))
    decision = policy.decide(KEY_CREATE)
    assert not decision.allowed
    assert "sensitive area" in decision.reason and "keys:write" in decision.reason


@pytest.mark.parametrize("grant", ["keys:write", "keys:*", "keys", "create_key"])
def test_sensitive_writes_must_be_named(grant):
    assert Policy.build(grants=f"*:*,{grant}").exposes(KEY_CREATE)


def test_read_only_wins_over_every_grant():
    policy = Policy.build(grants="*:*,keys:*,send_message", tools="send_message", read_only=True)
    assert not policy.exposes(SEND)
    assert "read-only" in policy.decide(SEND).reason
    assert policy.exposes(LIST) is False  # narrowed by tools=send_message


def test_patterns_grant_by_area_access_and_name():
    policy = Policy.build(grants="*:read,send_message")
    assert policy.exposes(LIST) and policy.exposes(SEND)
    assert not policy.exposes(DELETE)
    assert "no grant covers delete_bounce (suppressions:delete)" in policy.decide(DELETE).reason


def test_deny_and_exclude_beat_grants():
    policy = Policy.build(grants="*:*", deny="*:delete", exclude_tools="send_message")
    assert not policy.exposes(DELETE) and not policy.exposes(SEND)
    assert policy.exposes(LIST)
    assert "denied by the rule" in policy.decide(SEND).reason


def test_toolsets_and_tools_narrow_exposure():
    policy = Policy.build(toolsets="suppressions", tools="send_message")
    assert policy.exposes(LIST) and policy.exposes(SEND)
    assert not policy.exposes(KEY_LIST)


def test_confirm_patterns_mark_calls():
    policy = Policy.build(confirm="*:send,*:delete")
    assert policy.decide(SEND).confirm and policy.decide(DELETE).confirm
    assert not policy.decide(LIST).confirm


def test_from_env_reads_variables_and_flags_win():
    env = {"MG_TOOLS_GRANTS": "*:read", "MG_TOOLS_READ_ONLY": "", "MG_TOOLS_ALLOW_SECRETS": "yes"}
    policy = Policy.from_env(env)
    assert policy.grants == ("*:read",) and policy.allow_secrets
    assert Policy.from_env(env, read_only=True).read_only
    assert Policy.from_env(env, grants="send_message").grants == ("send_message",)


def test_patterns_are_case_insensitive_and_name_globs_match_tools():
    policy = Policy.build(deny="DELETE_*,*:SEND")
    assert not policy.exposes(DELETE) and not policy.exposes(SEND)
    assert policy.exposes(LIST)
    assert "denied by the rule 'delete_*'" in policy.decide(DELETE).reason


def test_a_name_glob_never_grants_a_sensitive_write():
    assert not Policy.build(grants="create_*").exposes(KEY_CREATE)
    assert Policy.build(grants="create_key").exposes(KEY_CREATE)


def test_tools_take_globs_and_toolsets_areas():
    policy = Policy.build(tools="list_*")
    assert policy.exposes(LIST) and policy.exposes(KEY_LIST) and not policy.exposes(SEND)


OPS = (SEND, LIST, DELETE, KEY_CREATE, KEY_LIST)


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"deny": "delete_*,dlete_*"}, "deny pattern 'dlete_*'"),
        ({"deny": "*:remove"}, "'remove' is not an access"),
        ({"grants": "supressions:read"}, "'supressions' is not an area"),
        ({"grants": "messages:delete"}, "no operation has that area and access"),
        ({"confirm": "send_mesage"}, "confirm pattern 'send_mesage'"),
        ({"exclude_tools": "delete_bounces"}, "deny pattern 'delete_bounces'"),
        ({"tools": "sendmessage"}, "tools pattern 'sendmessage'"),
        ({"tools": "messages:send"}, "--tools takes tool names"),
        ({"toolsets": "suppression"}, "toolset 'suppression' is not an area"),
    ],
)
def test_patterns_matching_nothing_are_refused_in_one_line(kwargs, named):
    policy = Policy.build(**kwargs)
    with pytest.raises(ConfigurationError) as info:
        policy.check(OPS)
    assert named in info.value.message and "\n" not in info.value.message


def test_patterns_that_match_pass_the_check():
    Policy.build(
        grants="*:read,keys:write,send_message",
        deny="delete_*,*:DELETE",
        confirm="*:send",
        tools="list_*",
        toolsets="suppressions",
    ).check(OPS)


def test_a_copy_switched_to_read_only_does_not_reuse_decisions():
    policy = Policy()
    assert policy.exposes(DELETE)
    assert not dataclasses.replace(policy, read_only=True).exposes(DELETE)


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_read_only_from_the_environment_wins_over_everything(monkeypatch, value):
    monkeypatch.setenv("MG_TOOLS_READ_ONLY", value)
    assert Policy().read_only and Policy(read_only=False).read_only
    assert Policy.from_env(read_only=False).read_only
    assert Policy.build(grants="*:*").read_only
    assert not Policy.from_env({"MG_TOOLS_GRANTS": "*:*"}, read_only=False).exposes(DELETE)


def test_switch_values_that_are_not_switches_are_refused(monkeypatch):
    monkeypatch.setenv("MG_TOOLS_READ_ONLY", "ture")
    with pytest.raises(ConfigurationError, match="MG_TOOLS_READ_ONLY='ture' is not a switch value"):
        Policy()


# -- the sensitive areas, per registered operation ----------------------------------------------------------

REGISTERED = Registry.from_plugins(make_plugin_manager())
SENSITIVE_OPS = [op for op in REGISTERED if op.area in SENSITIVE_AREAS]
#: Wildcard grants: name globs and area:access globs.
WILDCARDS = ("*:*", "*", "*_*", "*:read", "list_*", "[aciksu]*:*", "*:write", "*:delete", "create_*", "update_*",
             "delete_*", "*_key")  # fmt: skip


def _covers(grant: str, op: Operation) -> bool:
    """Whether the glob ``grant`` matches ``op`` as it would in any area."""
    if ":" in grant:
        area, access = grant.split(":")
        return fnmatch.fnmatchcase(op.area, area) and fnmatch.fnmatchcase(op.access, access)
    return fnmatch.fnmatchcase(op.name, grant)


def _granted(grants: str, op: Operation) -> tuple[bool, bool]:
    """Whether ``grants`` lists ``op``, and whether they allow calling it."""
    policy = Policy.build(grants=grants)
    return policy.exposes(op), policy.decide(op).allowed


def test_every_sensitive_area_has_operations():
    assert {op.area for op in SENSITIVE_OPS} == SENSITIVE_AREAS


@pytest.mark.parametrize("op", SENSITIVE_OPS, ids=lambda op: op.name)
def test_sensitive_writes_are_never_granted_by_a_wildcard(op):
    for grant in WILDCARDS:
        granted = _covers(grant, op) and op.access is Access.READ
        assert _granted(grant, op) == (granted, granted), f"{grant!r} and {op.name}"
        if _covers(grant, op) and not granted:
            assert f"{op.area} is a sensitive area" in Policy.build(grants=grant).decide(op).reason


@pytest.mark.parametrize("op", SENSITIVE_OPS, ids=lambda op: op.name)
def test_sensitive_operations_are_granted_by_naming_their_area_or_tool(op):
    for grants in (op.area, f"{op.area}:*", op.tag, op.name, f"*:read,{op.name}"):
        assert _granted(grants, op) == (True, True), grants


def test_the_executor_refuses_a_sensitive_write_granted_by_a_wildcard():
    with Toolkit(api_key=None, registry=REGISTERED, policy=Policy.build(grants="*:*")) as kit:
        assert "delete_key" not in {op.name for op in kit.operations()}
        with pytest.raises(PolicyDenied, match="keys is a sensitive area"):
            kit.dry_run("delete_key", key_id="k1")
    with Toolkit(api_key=None, registry=REGISTERED, policy=Policy.build(grants="*:*,keys")) as kit:
        assert kit.dry_run("delete_key", key_id="k1")["method"] == "DELETE"
