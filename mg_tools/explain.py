"""Mailgun's errors told in the terms of the tool that failed.

Mailgun names its own fields (``'from' parameter is not a valid address``): those become the tool's
field names (``'sender' parameter ...``), from the params model's aliases. A 404 says in plain words what
was not found, from the operation's path and arguments (``bob@example.com is not on the bounce list of
mg.example.com``); the region hint stays only where the region can be the cause, a domain Mailgun does
not know.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel

from mg_tools.aliases import wire_names
from mg_tools.errors import MailgunError, NotFound
from mg_tools.operation import Operation

__all__ = ["not_found", "restate", "translate"]

#: Path segments naming a suppression list: what is "not on" it.
_ON_LIST = {
    "bounces": "bounce list",
    "unsubscribes": "unsubscribe list",
    "complaints": "complaint list",
    "whitelists": "allowlist",
}
#: Path segments (the collection before a placeholder) as the noun of one item of it.
_NOUNS = {
    "templates": "template named",
    "versions": "version",
    "lists": "mailing list",
    "members": "member",
    "routes": "route",
    "ip_pools": "IP pool",
    "dynamic_pools": "dynamic IP pool",
    "ips": "IP",
    "pool": "IP",
    "ip_warmups": "warm-up of IP",
    "keys": "key",
    "credentials": "SMTP login",
    "mailboxes": "mailbox",
    "users": "user",
    "org": "organization",
    "subaccounts": "subaccount",
    "webhooks": "webhook",
    "messages": "stored message",
    "auth_recipients": "sandbox recipient",
    "entities": "entity",
}
#: "Domain not found", "domain mg.example.com not found", "Domain not found: mg.example.com"; not
#: "domain key not found" nor "Address/Domain not found in allowlist table".
_UNKNOWN_DOMAIN = re.compile(r"^\W*domain(?:\s+\S+\.\S+)?:?\s+not\s+found\b", re.IGNORECASE)
_DOMAIN_HINT = (
    "{domain} is not a domain of this account here: check its spelling (list_domains shows the account's "
    "domains), and the region: an EU account needs MAILGUN_API_REGION=eu."
)


def restate(error: MailgunError, op: Operation, args: BaseModel) -> None:
    """Restate ``error``, raised by a call of ``op`` with ``args``, in the tool's terms."""
    explanation, hint = translate(error.mailgun_message, op.params), None
    if isinstance(error, NotFound):
        plain, hint = not_found(op, args, error.mailgun_message)
        if plain:
            explanation = f"{explanation.rstrip('.')}. {plain}"
    error.restate(op.name, explanation, hint)


def translate(text: str, model: type[BaseModel]) -> str:
    """``text`` with the field names Mailgun uses replaced by the names of ``model``'s fields."""
    pattern, names = _renaming(model)
    if pattern is None:
        return text

    def rename(match: re.Match[str]) -> str:
        found = match.groupdict()
        if found.get("prefix") is not None:
            return f"{names[found['prefix']]}.{found['entry']}"
        word = found.get("word") or found.get("word2") or found.get("word3")
        quote = found.get("q") or ""
        return f"{quote}{names[word]}{quote}"

    return pattern.sub(rename, text)


@cache
def _renaming(model: type[BaseModel]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    wire = wire_names(model)
    names = {**wire.fields, **wire.prefixes}
    if not names:
        return None, names
    # A plain word (from, name, url) is renamed only where it is plainly a field: quoted, or called a
    # parameter or field; a name no sentence holds otherwise (o:tag, amp-html) wherever it stands.
    words = "|".join(re.escape(w) for w in sorted(wire.fields, key=len, reverse=True))
    odd = "|".join(re.escape(w) for w in sorted(wire.fields, key=len, reverse=True) if not w.isidentifier())
    alternatives = []
    if words:
        alternatives += [
            rf"(?P<q>['\"`])(?P<word>{words})(?P=q)",
            rf"(?<![\w:-])(?P<word2>{words})(?=\s+(?:parameter|param|field)\b)",
        ]
    if odd:
        alternatives.append(rf"(?<![\w:-])(?P<word3>{odd})(?![\w:-])")
    if wire.prefixes:
        prefixes = "|".join(re.escape(p) for p in wire.prefixes)
        alternatives.append(rf"(?<![\w:-])(?P<prefix>{prefixes})(?P<entry>[\w-]+)")
    return re.compile("|".join(alternatives)), names


def not_found(op: Operation, args: BaseModel, mailgun_text: str) -> tuple[str, str | None]:
    """What a 404 of ``op`` with ``args`` means in plain words (empty when the path names nothing to
    find), and the hint it calls for: the region hint for a domain Mailgun does not know, none else."""
    domain = getattr(args, "domain", None) if "domain" in op.path_params else None
    if domain and _UNKNOWN_DOMAIN.match(mailgun_text):
        return "", _DOMAIN_HINT.format(domain=domain)
    plain = _missing(op, args, domain)
    return plain, ("" if plain or domain else None)


def _missing(op: Operation, args: BaseModel, domain: str | None) -> str:
    """``No template named 'x' in mg.example.com``, from the path's placeholders and their values."""
    found = [
        (segment, name, getattr(args, name, None))
        for segment, name in _placeholders(op.path)
        if name != "domain" and not name.startswith("new_")
    ]
    found = [(segment, name, value) for segment, name, value in found if value is not None]
    if not found:
        return ""
    where = f" of {domain}" if domain else ""
    segment, _, value = found[-1]
    if segment in _ON_LIST and domain:
        return f"{_shown(value)} is not on the {_ON_LIST[segment]}{where}"
    items = " of ".join(f"{_NOUNS.get(s) or _noun_of(n)} {_shown(v)}" for s, n, v in reversed(found))
    return f"No {items}" + (f" in {domain}" if domain else "")


def _noun_of(field: str) -> str:
    return "IP" if field == "ip" else field.replace("_", " ")


def _placeholders(path: str) -> list[tuple[str, str]]:
    """``(the segment before it, its name)`` for each placeholder of a path template."""
    out, previous = [], ""
    for segment in path.split("/"):
        match = re.fullmatch(r"\{(\w+)\}", segment)
        if match:
            out.append((previous, match.group(1)))
        previous = segment
    return out


def _shown(value: Any) -> str:
    text = str(value)
    return text if "@" in text else f"'{text}'"
