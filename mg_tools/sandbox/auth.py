"""Sandbox: which API key a request carries, and whether that key may make it.

The sandbox's own key (``create_app(api_key=...)``) is the account's primary key: it may call every
endpoint, and ``GET /v5/users/me`` answers with the account owner. Keys made with ``POST /v1/keys``
authenticate too (Basic ``api:<secret>``), with what their kind and role allow:

- kind ``domain`` (role ``sending``): only ``POST /v3/<its domain>/messages`` and ``messages.mime``;
  anything else is 401 ``"Forbidden"``, as Mailgun's sending endpoints answer a key they refuse;
- role ``basic`` (analyst): reads, except the account's API keys and webhook signing key;
- role ``developer``: everything but managing API keys, SMTP credentials, users, the account and
  its subaccounts and limits, and the IP allowlist, which is the admin's (403 ``Forbidden``);
- role ``admin``: everything;
- ``GET /v5/users/me`` needs a key held by a user (kind ``user`` or ``web``): a domain key gets 403
  ``Incompatible key for this endpoint``.

A key that is unknown, revoked (deleted), disabled or expired gets 401 ``Invalid private key``, and
the sandbox's own ``/_sandbox/*`` endpoints answer only the primary key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from typing import Any
from urllib.parse import unquote

from starlette.responses import JSONResponse

from mg_tools.sandbox.core import Sandbox

__all__ = ["refusal"]

_UNAUTHORIZED = {"WWW-Authenticate": 'Basic realm="MG API"'}
_SENDING = re.compile(r"^/v3/([^/]+)/messages(?:\.mime)?$")
_ME = "/v5/users/me"
#: Paths whose changes only an admin's key may make.
_ADMIN_WRITES = re.compile(
    r"^/(?:v1/keys|v2/ip_whitelist|v5/users|v5/accounts|v3/[^/]+/mailboxes/|v3/domains/[^/]+/credentials)"
)
#: What an analyst's (``basic``) key may not even read.
_SECRET_READS = re.compile(r"^/(?:v1/keys|v5/accounts/http_signing_key)")


def basic_password(header: str) -> str | None:
    """The password of a Basic ``api:<password>`` Authorization header, or None."""
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return password if hmac.compare_digest(user.encode(), b"api") else None


def refusal(sb: Sandbox, authorization: str, method: str, path: str) -> JSONResponse | None:
    """The answer refusing this request, or None when its key may make it."""
    password = basic_password(authorization)
    if password is not None and hmac.compare_digest(password.encode(), sb.api_key.encode()):
        return None
    key = _created_key(sb, password) if password else None
    if key is None:
        return JSONResponse({"message": "Invalid private key"}, status_code=401, headers=_UNAUTHORIZED)
    if path.startswith("/_sandbox/"):
        return JSONResponse({"message": "Forbidden"}, status_code=403)
    if key["kind"] == "domain":
        return _domain_key_refusal(key, method, path)
    return _role_refusal(key["role"], method, path)


def _created_key(sb: Sandbox, secret: str) -> dict[str, Any] | None:
    """The live key created with ``secret``: not revoked, disabled or expired."""
    for doc in sb.state.list("api_key"):
        if hmac.compare_digest(doc["_secret"].encode(), secret.encode()):
            expires = doc.get("_expires_ts")
            live = not doc.get("is_disabled") and (expires is None or sb.now() < expires)
            return doc if live else None
    return None


def _domain_key_refusal(key: dict[str, Any], method: str, path: str) -> JSONResponse | None:
    if path == _ME:
        return JSONResponse({"message": "Incompatible key for this endpoint"}, status_code=403)
    sending = _SENDING.match(path)
    if method == "POST" and sending and unquote(sending.group(1)).lower() == (key["domain_name"] or "").lower():
        return None
    return JSONResponse("Forbidden", status_code=401, headers=_UNAUTHORIZED)


def _role_refusal(role: str, method: str, path: str) -> JSONResponse | None:
    if role == "admin":
        return None
    if role == "basic":
        allowed = method in ("GET", "HEAD") and not _SECRET_READS.match(path)
    else:  # developer
        allowed = method in ("GET", "HEAD") or not _ADMIN_WRITES.match(path)
    return None if allowed else JSONResponse({"message": "Forbidden"}, status_code=403)
