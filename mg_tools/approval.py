"""The question a person is asked before a call that needs confirmation, in plain words.

Built from the operation and its validated arguments: "Send 'Spring sale' to 120 recipients from
news@mg.example.com?", "Delete domain mg.example.com?".
"""

from __future__ import annotations

from typing import Any

from mg_tools.operation import Access, Operation

__all__ = ["question"]

#: Longest value quoted in a question.
MAX_VALUE = 80
#: At most this many arguments besides the path's are named.
MAX_EXTRA = 3


def question(op: Operation, args: Any) -> str:
    """What ``op`` called with ``args`` (its params model) will do, as a yes-or-no question."""
    if op.access is Access.SEND:
        return _send_question(args)
    words = op.name.split("_")
    text = " ".join([words[0].capitalize(), *words[1:]])
    named = [_short(getattr(args, name, "")) for name in op.path_params if name != "domain"]
    domain = getattr(args, "domain", None)
    extra = [
        f"{name} {_short(value)}"
        for name, value in _scalars(args)
        if name not in op.path_params and name not in ("domain", "limit", "cursor")
    ][:MAX_EXTRA]
    if named or extra or not domain:
        text = " ".join([text, *named]) + (f" on {domain}" if domain else "")
    else:  # the domain is what the call is about: "Delete domain mg.example.com?"
        text += f" {domain}"
    return text + (f" ({', '.join(extra)})?" if extra else "?")


def _send_question(args: Any) -> str:
    recipients = [
        address for name in getattr(args, "recipient_fields", ("to",)) for address in getattr(args, name, None) or ()
    ]
    subject = getattr(args, "subject", None)
    template = getattr(args, "template_name", None)
    what = f"'{_short(subject)}'" if subject else f"template '{_short(template)}'" if template else "a message"
    whom = _short(str(recipients[0])) if len(recipients) == 1 else f"{len(recipients)} recipients"
    sender = getattr(args, "sender", None)
    origin = f" from {_short(str(sender))}" if sender else f" through {args.domain}" if hasattr(args, "domain") else ""
    return f"Send {what} to {whom}{origin}?"


def _scalars(args: Any) -> list[tuple[str, Any]]:
    dumped = args.model_dump(exclude_none=True) if hasattr(args, "model_dump") else {}
    return [(k, v) for k, v in dumped.items() if isinstance(v, (str, int, float, bool))]


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
