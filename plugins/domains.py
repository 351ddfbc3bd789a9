"""Domains: the sending domains of the account."""

from typing import Any, Literal

from pydantic import Field

from mg_tools import Access, Operation, Paging, registering
from mg_tools.errors import MgToolsError, NotFound
from mg_tools.types import Cursor, Domain, DomainName, Limit, Params, Skip

SpamAction = Literal["disabled", "block", "tag"]
WebScheme = Literal["http", "https"]
SmtpPassword = Field(None, min_length=5, max_length=32, description="SMTP password for postmaster@domain")


class ListDomains(Params):
    """List the account's domains with their state (active, unverified, disabled)."""

    limit: Limit = 100
    skip: Skip | None = None
    state: Literal["active", "unverified", "disabled"] | None = None
    sort: Literal["name:asc", "name:desc"] | None = None
    authority: Domain | None = Field(None, description="Only domains under this DKIM authority")
    search: str | None = Field(None, max_length=253, description="Substring of the domain name")
    include_subaccounts: bool | None = None
    cursor: Cursor = None


class _DomainSettings(Params):
    require_tls: bool | None = Field(None, description="Only deliver over TLS")
    skip_verification: bool | None = Field(None, description="Skip TLS certificate checks")
    spam_action: SpamAction | None = Field(None, description="What to do with inbound spam")
    smtp_password: str | None = SmtpPassword
    use_automatic_sender_security: bool | None = Field(None, description="DKIM by CNAME records; Mailgun rotates keys")
    web_scheme: WebScheme | None = Field(None, description="Scheme of tracking links")
    web_prefix: str | None = Field(None, max_length=63, description="Subdomain of tracking links")
    wildcard: bool | None = Field(None, description="Accept mail for subdomains")
    archive_to: str | None = Field(None, max_length=2048, description="URL receiving copies of sent mail")
    message_ttl: int | None = Field(None, ge=1, le=604800, description="Seconds to keep retrying delivery")


class CreateDomain(_DomainSettings):
    """Add a sending domain; returns the DNS records to publish before verify_domain."""

    domain: DomainName
    dkim_key_size: Literal["1024", "2048"] | None = None
    dkim_selector: str | None = Field(None, max_length=63)
    dkim_host_name: str | None = Field(
        None, max_length=253, description="Host of the DKIM record: this domain, a subdomain or its root"
    )
    encrypt_incoming_message: bool | None = Field(None, description="Store inbound mail encrypted; cannot be undone")
    force_dkim_authority: bool | None = Field(None, description="Own DKIM authority even if its root domain is here")
    force_root_dkim_host: bool | None = Field(None, description="DKIM record on the root domain")
    pool_id: str | None = Field(None, description="IP pool to send from")
    ips: str | None = Field(None, description="Comma-separated dedicated IPs")


class GetDomain(Params):
    """Show a domain's settings, state and the DNS records it needs."""

    domain: DomainName


class UpdateDomain(_DomainSettings):
    """Change a domain's settings (TLS, spam action, tracking links, SMTP password...)."""

    domain: DomainName
    mailfrom_host: str | None = Field(None, max_length=253, description="Custom MAIL FROM host")


class VerifyDomain(GetDomain):
    """Re-check a domain's DNS records now; activates the domain when they are right."""


class DeleteDomain(GetDomain):
    """Delete a domain and everything stored under it. Irreversible."""


class CheckDomainSetup(GetDomain):
    """Is this domain ready to send? One report: state, each DNS record and whether it is valid, DKIM
    keys, tracking, sending queues, and the next steps to take."""


# -- check_domain_setup ----------------------------------------------------------------------------

Call = Any  # async (name, arguments) -> result data, as the executor gives composites


async def _fetch(call: Call, name: str, arguments: dict[str, Any]) -> tuple[Any, str | None]:
    """The result of one sub-call, or None and why it is unavailable (denied, failed, unreachable)."""
    try:
        return await call(name, arguments), None
    except MgToolsError as exc:
        return None, f"{name}: {exc}"


def _dns_records(found: dict[str, Any]) -> list[dict[str, Any]]:
    name = found["domain"]["name"]
    return [
        {
            "purpose": purpose,
            "type": record.get("record_type"),
            "name": record.get("name") or name,
            "value": record.get("value"),
            **({"priority": record["priority"]} if record.get("priority") else {}),
            "valid": record.get("valid") == "valid",
        }
        for purpose in ("sending", "receiving")
        for record in found.get(f"{purpose}_dns_records") or []
    ]


def _add_record_step(record: dict[str, Any]) -> str:
    priority = f" (priority {record['priority']})" if record.get("priority") else ""
    purpose = " to receive mail" if record.get("purpose") == "receiving" else ""
    return f"Add {record['type']} record '{record['value']}'{priority} at {record['name']}{purpose}"


def _dkim_section(keys: dict[str, Any], domain: dict[str, Any] | None) -> dict[str, Any]:
    items = keys.get("items") or []
    records = [(key.get("selector"), key.get("dns_record") or {}) for key in items]
    active = [
        {
            "selector": selector,
            "type": record.get("record_type", "TXT"),
            "name": record.get("name"),
            "value": record.get("value"),
            "valid": record.get("valid") == "valid",
        }
        for selector, record in records
        if record.get("is_active")
    ]
    section: dict[str, Any] = {"active_keys": active, "inactive_keys": len(items) - len(active)}
    if domain is not None:
        # Only Automatic Sender Security domains rotate on their own (update_dkim_rotation).
        section["rotation"] = "automatic" if domain.get("use_automatic_sender_security") else "manual"
    return section


def _tracking_section(settings: dict[str, Any], scheme: str | None, certificate: dict[str, Any]) -> dict[str, Any]:
    tracking = settings.get("tracking") or {}
    section = {kind: (tracking.get(kind) or {}).get("active") for kind in ("open", "click", "unsubscribe")}
    scheme = scheme or tracking.get("web_scheme")
    return {**section, **({"web_scheme": scheme} if scheme else {}), "https_certificate": certificate}


async def _certificate(call: Call, host: str) -> dict[str, Any]:
    try:
        found = await call("get_tracking_certificate", {"domain": host})
    except NotFound:
        return {"host": host, "status": "not generated"}
    except MgToolsError as exc:
        return {"host": host, "unavailable": f"get_tracking_certificate: {exc}"}
    return {"host": host, "status": found.get("status")}


def _queues_section(queues: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name in ("regular", "scheduled"):
        queue = queues.get(name) or {}
        if not queue.get("is_disabled"):
            out[name] = "running"
            continue
        disabled = queue.get("disabled") or {}
        reason, until = disabled.get("reason"), disabled.get("until")
        out[name] = "paused" + (f": {reason}" if reason else "") + (f" (until {until})" if until else "")
    return out


def _next_steps(report: dict[str, Any]) -> list[str]:
    steps: list[str] = []
    records = report["dns_records"] if isinstance(report["dns_records"], list) else []
    listed = {r["name"] for r in records}
    steps += [_add_record_step(r) for r in records if not r["valid"]]
    dkim = report["dkim"]
    if "active_keys" in dkim:
        steps += [_add_record_step(k) for k in dkim["active_keys"] if not k["valid"] and k["name"] not in listed]
        if not dkim["active_keys"]:
            steps.append("No DKIM key signs this domain's mail: activate one with activate_dkim_key")
    state = report["state"]
    if state == "unverified":
        steps.append("Verify the domain with verify_domain once DNS has propagated")
    elif state == "disabled":
        steps.append("Mailgun has disabled the domain: it cannot send until Mailgun support enables it again")
    certificate = report["tracking"].get("https_certificate") or {}
    if report["tracking"].get("web_scheme") == "https" and certificate.get("status") != "active":
        host = certificate.get("host")
        if certificate.get("status") == "expired":
            steps.append(
                f"Tracking links use https but the certificate of {host} expired: regenerate_tracking_certificate"
            )
        elif certificate.get("status") == "not generated":
            steps.append(f"Tracking links use https: issue a certificate for {host} with generate_tracking_certificate")
    for name, status in report["sending_queues"].items():
        if status.startswith("paused"):
            steps.append(f"The {name} sending queue is {status}")
    unavailable = [k for k, v in report.items() if isinstance(v, dict) and "unavailable" in v]
    if not steps and state == "active":
        steps.append(
            "Nothing to do: the domain is active and every record is valid"
            + (f" (not checked: {', '.join(unavailable)})" if unavailable else "")
        )
    return steps


async def check_domain_setup(args: CheckDomainSetup, call: Call) -> dict[str, Any]:
    try:
        found, why_domain = await call("get_domain", {"domain": args.domain}), None
    except NotFound:
        raise  # no such domain: there is nothing to check
    except MgToolsError as exc:
        found, why_domain = None, f"get_domain: {exc}"
    domain = (found or {}).get("domain")
    keys, why_keys = await _fetch(call, "list_domain_dkim_keys", {"domain": args.domain})
    tracking, why_tracking = await _fetch(call, "get_tracking_settings", {"domain": args.domain})
    queues, why_queues = await _fetch(call, "get_sending_queues", {"domain": args.domain})
    report: dict[str, Any] = {
        "domain": args.domain,
        "state": domain.get("state") if domain else None,
        "dns_records": _dns_records(found) if domain else {"unavailable": why_domain},
        "dkim": _dkim_section(keys, domain) if keys is not None else {"unavailable": why_keys},
        "tracking": {"unavailable": why_tracking},
        "sending_queues": _queues_section(queues) if queues is not None else {"unavailable": why_queues},
    }
    if tracking is not None:
        host = f"{(domain or {}).get('web_prefix') or 'email'}.{args.domain}"
        scheme = (domain or {}).get("web_scheme")
        report["tracking"] = _tracking_section(tracking, scheme, await _certificate(call, host))
    report["next_steps"] = _next_steps(report)
    return report


# fmt: off
OPERATIONS = (
    Operation("list_domains", "GET", "/v4/domains", ListDomains, Access.READ, paging=Paging.SKIP, compact=("name", "state", "type", "is_disabled", "created_at")),
    Operation("create_domain", "POST", "/v4/domains", CreateDomain, Access.WRITE),
    Operation("get_domain", "GET", "/v4/domains/{domain}", GetDomain, Access.READ),
    Operation("update_domain", "PUT", "/v4/domains/{domain}", UpdateDomain, Access.WRITE),
    Operation("verify_domain", "PUT", "/v4/domains/{domain}/verify", VerifyDomain, Access.WRITE),
    Operation("delete_domain", "DELETE", "/v3/domains/{domain}", DeleteDomain, Access.DELETE),
    Operation("check_domain_setup", "", "", CheckDomainSetup, Access.READ, handler=check_domain_setup),
)
# fmt: on


#: How people ask for each operation, in their own words: indexed by discover-mode search, never shown.
ASKS = {
    "get_domain": ("domain details", "which dns records does the domain need", "domain state"),
    "list_domains": ("all our domains", "unverified domains"),
    "create_domain": ("new sending domain", "register a domain", "set up a domain to send from"),
    "update_domain": ("require tls", "spam action", "wildcard", "tracking link scheme https"),
    "verify_domain": (
        "check dns again",
        "verify spf dkim",
        "records added activate the domain",
        "domain still unverified",
    ),
    "delete_domain": ("remove a domain", "no longer use a domain"),
    "check_domain_setup": (
        "is the domain set up correctly",
        "ready to send",
        "what is missing in dns",
        "domain not sending",
    ),
}

register_operations = registering(OPERATIONS, asks=ASKS)
