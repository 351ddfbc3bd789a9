"""Rendering in the sandbox: stored templates (Handlebars subset) and the variables that fill them,
``%recipient.<name>%`` substitution, and the subject, bodies and headers a send ends up with."""

from __future__ import annotations

import html as htmllib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mg_tools.sandbox.core import ApiError, Sandbox

if TYPE_CHECKING:
    from mg_tools.sandbox.pipeline import Submission

__all__ = ["Content", "message_content", "render_template", "substitute_recipient"]


@dataclass
class Content:
    subject: str
    text: str | None
    html: str | None
    template: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


_BLOCK = re.compile(r"\{\{#(if|unless)\s+([^}]+?)\s*\}\}((?:(?!\{\{#(?:if|unless)\s).)*?)\{\{/\1\}\}", re.S)
_VAR = re.compile(r"\{\{\{\s*([^{}]+?)\s*\}\}\}|\{\{\s*([^{}#/!>^][^{}]*?)\s*\}\}")
_RECIPIENT_VAR = re.compile(r"%recipient\.([A-Za-z0-9_.\-]+)%")


def _lookup(variables: dict[str, Any], path: str) -> Any:
    value: Any = variables
    for part in path.strip().removeprefix("this.").lstrip(".").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def render_template(source: str, variables: dict[str, Any]) -> str:
    """Render the handlebars subset Mailgun templates mostly use: ``{{var}}`` (HTML-escaped),
    ``{{{var}}}`` (raw), ``{{obj.field}}``, ``{{#if x}}..{{else}}..{{/if}}`` and ``#unless``;
    missing values render empty."""

    def block(match: re.Match) -> str:
        kind, name, body = match.groups()
        yes, _, no = body.partition("{{else}}")
        truthy = bool(_lookup(variables, name))
        return yes if truthy == (kind == "if") else no

    previous = None
    while previous != source:
        previous, source = source, _BLOCK.sub(block, source)

    def var(match: re.Match) -> str:
        raw, escaped = match.groups()
        if raw is not None:
            return _text(_lookup(variables, raw))
        return htmllib.escape(_text(_lookup(variables, escaped)))

    return _VAR.sub(var, source)


def substitute_recipient(text: str | None, variables: dict[str, Any]) -> str | None:
    """Replace ``%recipient.<name>%`` with this recipient's value (empty when missing)."""
    if not text:
        return text
    return _RECIPIENT_VAR.sub(lambda m: _text(_lookup(variables, m.group(1))), text)


def _html_to_text(source: str) -> str:
    source = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", source)
    source = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>", "\n", source)
    return htmllib.unescape(re.sub(r"<[^>]+>", "", source)).strip()


def _template_version(sb: Sandbox, domain: str, name: str, tag: str | None) -> tuple[dict, dict]:
    doc = sb.state.get("template", f"{domain}/{name}") or sb.state.get("template", f"{domain}/{name.lower()}")
    if doc is None:
        raise ApiError(400, f"template '{name}' not found")
    versions = doc.get("versions") or {}
    if tag:
        version = versions.get(tag) or versions.get(tag.lower())
        if version is None:
            raise ApiError(400, f"template '{name}' has no version '{tag}'")
        return doc, version
    active = [v for v in versions.values() if v.get("active")]
    if not active:
        raise ApiError(400, f"template '{name}' has no active version")
    return doc, active[0]


def message_content(sb: Sandbox, sub: Submission) -> Content:
    subject = sub.subject or ""
    if not sub.template:
        return Content(subject, sub.text, sub.html)
    doc, version = _template_version(sb, sub.domain, sub.template, sub.template_version)
    variables = {**sub.variables, **sub.template_variables}
    html = render_template(version.get("template") or "", variables)
    headers = {k: render_template(str(v), variables) for k, v in (version.get("headers") or {}).items()}
    if not subject:
        subject = next((v for k, v in headers.items() if k.lower() == "subject"), "")
    text = sub.text
    if sub.template_text:
        text = _html_to_text(html)
    meta = {"name": doc.get("name", sub.template), "version": version.get("tag", ""), "is-text": sub.template_text}
    headers = {k: v for k, v in headers.items() if k.lower() != "subject"}
    return Content(subject, text, html, meta, headers)
