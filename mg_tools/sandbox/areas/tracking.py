"""Sandbox: a domain's open, click and unsubscribe tracking settings, and the TLS certificate of
its tracking host (``/v2/x509/{web_prefix}.{domain}``).

Settings live on the domain document (``_tracking``), so they go when the domain goes.
Simulated: certificate generation takes ``CERT_SECONDS`` of the sandbox clock (``processing``, then
``active``) and a certificate expires ``CERT_LIFETIME`` seconds after it was issued; the PEM is fake.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from mg_tools.sandbox.core import ApiError, Ctx, Router, described

router = Router()

CERT_SECONDS = 5
CERT_LIFETIME = 90 * 86400
_HTML_FOOTER = '\n<br>\n<p><a href="%unsubscribe_url%">unsubscribe</a></p>\n'
_TEXT_FOOTER = "\n\nTo unsubscribe click: <%unsubscribe_url%>\n\n"
_CLICK_VALUES = {"true": True, "yes": True, "false": False, "no": False, "htmlonly": "htmlonly"}


def tracking_settings(domain: dict[str, Any]) -> dict[str, Any]:
    """The domain's tracking settings (Mailgun's defaults until changed)."""
    saved = domain.get("_tracking") or {}
    return {
        "open": {"active": False, "place_at_the_top": False, **saved.get("open", {})},
        "click": {"active": False, **saved.get("click", {})},
        "unsubscribe": {
            "active": False,
            "html_footer": _HTML_FOOTER,
            "text_footer": _TEXT_FOOTER,
            **saved.get("unsubscribe", {}),
        },
    }


def _update(ctx: Ctx, part: str, changes: dict[str, Any]) -> dict:
    with ctx.state.transaction():
        domain = ctx.sb.domain(ctx.path["domain"])
        settings = tracking_settings(domain)
        settings[part].update(changes)
        domain["_tracking"] = settings
        ctx.state.put("domain", domain["name"], domain)
    return {"message": "Domain tracking settings have been updated", part: settings[part]}


def _present(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@router.get("/v3/domains/{domain}/tracking")
async def get_tracking(ctx: Ctx) -> dict:
    """Open, click and unsubscribe tracking of a domain, plus its tracking URL scheme."""
    domain = ctx.sb.domain(ctx.path["domain"])
    return {"tracking": {**tracking_settings(domain), "web_scheme": domain.get("web_scheme", "http")}}


@router.put("/v3/domains/{domain}/tracking/click")
async def update_click_tracking(ctx: Ctx) -> dict:
    """Click tracking: ``true``, ``false`` or ``htmlonly``; omitted means no change."""
    raw = ctx.arg("active")
    changes: dict[str, Any] = {}
    if raw not in (None, ""):
        if str(raw).lower() not in _CLICK_VALUES:
            raise ApiError(400, "'active' must be one of: true, false, htmlonly")
        changes["active"] = _CLICK_VALUES[str(raw).lower()]
    return _update(ctx, "click", changes)


@router.put("/v3/domains/{domain}/tracking/open")
async def update_open_tracking(ctx: Ctx) -> dict:
    """Open tracking on or off, and whether the pixel goes at the top of the HTML body."""
    changes = _present(active=ctx.bool_arg("active"), place_at_the_top=ctx.bool_arg("place_at_the_top"))
    return _update(ctx, "open", changes)


@router.put("/v3/domains/{domain}/tracking/unsubscribe")
async def update_unsubscribe_tracking(ctx: Ctx) -> dict:
    """Unsubscribe links on or off, and the HTML and text footers that carry them."""
    changes = _present(
        active=ctx.bool_arg("active"), html_footer=ctx.arg("html_footer"), text_footer=ctx.arg("text_footer")
    )
    return _update(ctx, "unsubscribe", changes)


# -- tracking certificates ------------------------------------------------------------------------


def _tracking_domain(ctx: Ctx) -> dict[str, Any]:
    """The account domain whose tracking host (``web_prefix.name``) is the path's ``domain``."""
    host = ctx.path["domain"].lower()
    for domain in ctx.state.list("domain"):
        if f"{domain.get('web_prefix', 'email')}.{domain['name']}" == host:
            return domain
    raise described(404, "domain not found")


def _certificate(ctx: Ctx, domain: dict[str, Any]) -> dict[str, Any] | None:
    """The certificate of the domain's current tracking host, with its status as of now."""
    cert = domain.get("_x509")
    if cert is None or cert["host"] != ctx.path["domain"].lower():
        return None
    now = ctx.sb.now()
    if now < cert["started_at"] + CERT_SECONDS:
        status = "processing"
    elif now < cert["started_at"] + CERT_SECONDS + CERT_LIFETIME:
        status = "active"
    else:
        status = "expired"
    return {**cert, "status": status, "expires_at": cert["started_at"] + CERT_SECONDS + CERT_LIFETIME}


def _fake_pem(host: str, serial: str) -> str:
    body = base64.b64encode(f"sandbox certificate for {host}, serial {serial}; not a real certificate".encode())
    lines = [body[i : i + 64].decode() for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----"]) + "\n"


def _start(ctx: Ctx, domain: dict[str, Any]) -> dict:
    if domain["state"] != "active":
        raise ApiError(400, "invalid CNAME record", body={"Reason": "invalid CNAME record"})
    host = ctx.path["domain"].lower()
    domain["_x509"] = {"host": host, "started_at": ctx.sb.now(), "serial": ctx.sb.new_id(8)}
    ctx.state.put("domain", domain["name"], domain)
    return {"message": "Initiated x509 key pair generation", "location": f"/v2/x509/{host}/status"}


def _accepted(body: dict) -> JSONResponse:
    return JSONResponse(body, status_code=202)


@router.post("/v2/x509/{domain}")
async def generate_certificate(ctx: Ctx) -> JSONResponse:
    """Start issuing a TLS certificate for a tracking host; poll the ``location`` for progress."""
    with ctx.state.transaction():
        domain = _tracking_domain(ctx)
        if _certificate(ctx, domain) is not None:
            raise described(409, f"x509 key pair generation has already been initiated for {ctx.path['domain']}")
        return _accepted(_start(ctx, domain))


@router.put("/v2/x509/{domain}")
async def regenerate_certificate(ctx: Ctx) -> JSONResponse:
    """Re-issue an expired certificate (a valid one is left alone)."""
    with ctx.state.transaction():
        domain = _tracking_domain(ctx)
        cert = _certificate(ctx, domain)
        if cert is None:
            raise described(404, "x509 cert not found")
        if cert["status"] == "processing":
            raise described(429, f"x509 key pair generation job is already in progress for {ctx.path['domain']}")
        if cert["status"] == "active":
            until = datetime.fromtimestamp(cert["expires_at"], tz=UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
            raise described(409, f"x509 certificate is still valid until {until}")
        return _accepted(_start(ctx, domain))


@router.get("/v2/x509/{domain}/status")
async def get_certificate(ctx: Ctx) -> dict:
    """A tracking host's certificate and its status: processing, active or expired."""
    domain = _tracking_domain(ctx)
    cert = _certificate(ctx, domain)
    if cert is None:
        raise described(404, f"Please initiate x509 key pair generation at POST /v2/x509/{ctx.path['domain']}")
    if cert["status"] == "processing":
        return {"status": "processing", "error": "Waiting for x509 key pair generation"}
    pem = _fake_pem(cert["host"], cert["serial"])
    if cert["status"] == "expired":
        return {"status": "expired", "error": "x509 certificate has expired", "certificate": pem}
    return {"status": "active", "certificate": pem}
