"""The identities file: what it accepts, and a one-line error naming the file and line for the rest."""

import hashlib

import pytest

from mg_tools import Toolkit
from mg_tools.caller import Caller, acting_as
from mg_tools.errors import ConfigurationError, PolicyDenied
from mg_tools.identities import TOKEN_IDENTITY, Identities
from mg_tools.operation import Access
from mg_tools.policy import Policy, decide


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


GOOD = f"""# who may call what over HTTP
[identities.helpdesk]
token_sha256 = "{sha("tok-helpdesk")}"
grants = "suppressions:*,send_message"
read_only = false

[identities.auditor]
token_sha256 = "{sha("tok-auditor")}"
deny = ["list_events"]
read_only = true
subaccount = "646D00A1B32C35364A2AD34F"

[identities.admin]
token_sha256 = "{sha("tok-admin").upper()}"
"""


@pytest.fixture(scope="module")
def operations():
    return list(Toolkit(sandbox=True).registry)


def load(tmp_path, text, operations):
    path = tmp_path / "identities.toml"
    path.write_text(text)
    return Identities.load(path, operations)


def test_a_good_file_maps_each_token_to_its_identity(tmp_path, operations):
    identities = load(tmp_path, GOOD, operations)
    helpdesk, auditor, admin = (identities.match(f"tok-{n}") for n in ("helpdesk", "auditor", "admin"))
    assert [helpdesk.name, auditor.name, admin.name] == ["helpdesk", "auditor", "admin"]
    assert helpdesk.policy.grants == ("suppressions:*", "send_message") and not helpdesk.policy.read_only
    assert auditor.policy.read_only and auditor.policy.deny == ("list_events",)
    assert auditor.caller == Caller("auditor", policy=auditor.policy, subaccount="646d00a1b32c35364a2ad34f")
    assert admin.policy is None and admin.subaccount is None
    assert identities.match("tok-nobody") is None and identities.match("") is None
    assert "tok-" not in repr(helpdesk) and sha("tok-helpdesk") not in repr(helpdesk)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[identities.a]\ntoken_sha256 = "abc\n', 2, "not valid TOML"),
        (
            f'[identities.a]\ntoken_sha256 = "{sha("x")}"\n\n[identities.b]\ntoken = "tok"\n',
            5,
            "plain token: store its SHA-256 as token_sha256",
        ),
        ('[identities.a]\n\ntoken_sha256 = "abc123"\n', 3, "must be 64 hex digits"),
        (f'[identities.a]\ntoken_sha256 = "{"g" * 64}"\n', 2, "must be 64 hex digits"),
        (
            f'[identities.a]\ntoken_sha256 = "{sha("x")}"\n'
            f'[identities.b]\ngrants = "*:read"\ntoken_sha256 = "{sha("x").upper()}"\n',
            5,
            "'a' and 'b' have the same token",
        ),
        (f'[identities.a]\ntoken_sha256 = "{sha("x")}"\nrole = "admin"\n', 3, "unknown key 'role' in identity 'a'"),
        (f'mode = "open"\n[identities.a]\ntoken_sha256 = "{sha("x")}"\n', 1, "unknown key 'mode'"),
        (
            f'[identities.a]\ntoken_sha256 = "{sha("x")}"\ngrants = "suppresions:*"\n',
            3,
            "grant pattern 'suppresions:*' matches nothing",
        ),
        (
            f'[identities.a]\ntoken_sha256 = "{sha("x")}"\nread_only = "yes"\n',
            3,
            "read_only of identity 'a' must be true or false",
        ),
        ('[identities.a]\ngrants = "*:read"\n', 1, "has no token_sha256"),
        (
            f'[identities.a]\ntoken_sha256 = "{sha("x")}"\nsubaccount = "acct-42"\n',
            3,
            "subaccount of identity 'a' 'acct-42' is",
        ),
    ],
    ids=[
        "toml",
        "plain-token",
        "short-hash",
        "not-hex",
        "duplicate",
        "unknown-key",
        "top-level",
        "pattern",
        "read-only",
        "no-hash",
        "subaccount",
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_line(tmp_path, operations, text, line, message):
    with pytest.raises(ConfigurationError) as info:
        load(tmp_path, text, operations)
    assert info.value.message.startswith(f"{tmp_path / 'identities.toml'}:{line}: "), info.value.message
    assert message in info.value.message and "\n" not in info.value.message


def test_an_empty_or_missing_file_is_refused(tmp_path, operations):
    with pytest.raises(ConfigurationError, match="no identities"):
        load(tmp_path, "", operations)
    with pytest.raises(ConfigurationError, match="cannot read the identities file"):
        Identities.load(tmp_path / "missing.toml", operations)


def test_the_http_token_joins_the_file_but_never_twice(tmp_path, operations):
    identities = load(tmp_path, GOOD, operations).merged(Identities.of_token("tok-single"))
    assert identities.match("tok-single").name == TOKEN_IDENTITY and len(identities) == 4
    with pytest.raises(ConfigurationError, match="also the token of an identity"):
        load(tmp_path, GOOD, operations).merged(Identities.of_token("tok-admin"))


def test_an_identity_policy_narrows_the_toolkits_for_listing_and_calling():
    mg = Toolkit(sandbox=True, policy=Policy.build(grants="*:read,suppressions:*,send_message"))
    helpdesk = Caller("helpdesk", policy=Policy.build(grants="suppressions:*,domains:*"))
    reader = Caller("reader", policy=Policy.build(read_only=True))
    delete_bounce, get_domain, delete_domain = (
        mg.registry.get(n) for n in ("delete_bounce", "get_domain", "delete_domain")
    )
    with acting_as(helpdesk):
        assert decide(mg.policy, delete_bounce).allowed and decide(mg.policy, get_domain).allowed
        assert not decide(mg.policy, delete_domain).allowed  # the identity allows it, the toolkit does not
        assert "no grant covers send_message" in decide(mg.policy, mg.registry.get("send_message")).reason
        assert "identity 'helpdesk'" in decide(mg.policy, mg.registry.get("send_message")).reason
    with acting_as(reader):
        assert all(decide(mg.policy, op).allowed == (op.access is Access.READ) for op in mg.operations())
        with pytest.raises(PolicyDenied, match="read-only mode.*identity 'reader'"):
            mg.call("delete_bounce", domain="mg.example.com", address="a@example.com")
    assert decide(mg.policy, delete_bounce).allowed  # outside the identity, the toolkit's policy alone
