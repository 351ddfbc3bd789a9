"""Sandbox: domain templates and their versions.

A template is stored under kind ``template``, key ``domain/name`` (names are lower-cased, as
Mailgun does), with its versions keyed by tag. The message pipeline renders the active version.
"""

from __future__ import annotations

import uuid
from typing import Any

from mg_tools.sandbox import mime
from mg_tools.sandbox.core import ApiError, Ctx, Router, check_page, json_object, page_by_urls, public, rfc2822

router = Router()

MAX_TEMPLATES = 100
MAX_VERSIONS = 40
MAX_CONTENT = 100 * 1024
_ENGINES = {"handlebars", "go"}
_HEADERS = {"from": "From", "subject": "Subject", "reply-to": "Reply-To"}
_BAD_PAGE = "Invalid parameter: page must be one of first, last, next, previous"
_PUBLIC = ("name", "description", "createdAt", "createdBy", "id")


def _name(raw: Any) -> str:
    # The name goes into the X-Mailgun-Template-Name header of every message sent with it.
    name = raw.strip().lower() if isinstance(raw, str) else ""
    if not name or len(name) > 255 or any(c.isspace() for c in name) or mime.header_problem(name):
        raise ApiError(400, "Invalid parameter: name is invalid")
    return name


def _key(domain: str, name: str) -> str:
    return f"{domain}/{name.lower()}"


def _load(ctx: Ctx) -> dict[str, Any]:
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    return ctx.sb.existing("template", _key(domain, ctx.path["template_name"]), "template not found")


def _save(ctx: Ctx, doc: dict[str, Any]) -> None:
    ctx.state.put("template", _key(ctx.path["domain"], doc["name"]), doc)


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in _PUBLIC if k in doc}


def _version_out(version: dict[str, Any], *, content: bool = True) -> dict[str, Any]:
    out = public(version)
    if not content:
        out.pop("template", None)
        out.pop("mjml", None)
    out.setdefault("headers", {})
    return out


def _headers(ctx: Ctx) -> dict[str, str] | None:
    value = json_object(ctx.arg("headers"), "Invalid parameter: headers must be a JSON object")
    if value is None:
        return None
    headers = {}
    for key, val in value.items():
        canonical = _HEADERS.get(str(key).lower())
        if canonical is None:
            raise ApiError(400, f"Invalid parameter: header '{key}' is not supported (From, Subject, Reply-To)")
        problem = mime.header_problem(str(val))
        if problem:
            raise ApiError(400, f"Invalid parameter: header '{canonical}' must not contain {problem}")
        headers[canonical] = str(val)
    return headers


def _content(ctx: Ctx, *, required: bool) -> str | None:
    content = ctx.text("template")
    if content in (None, ""):
        if required:
            raise ApiError(400, "Missing mandatory parameter: template")
        return None
    if len(content.encode()) > MAX_CONTENT:
        raise ApiError(400, "Invalid parameter: template is larger than 100 KB")
    return content


def _engine(ctx: Ctx) -> str:
    engine = (ctx.arg("engine") or "handlebars").lower()
    if engine not in _ENGINES:
        raise ApiError(400, f"Invalid parameter: engine {engine} is not supported")
    return engine


def _new_version(ctx: Ctx, tag: str, content: str) -> dict[str, Any]:
    if not tag.strip() or len(tag) > 255:
        raise ApiError(400, "Invalid parameter: tag is invalid")
    version = {
        "tag": tag,
        "template": content,
        "engine": _engine(ctx),
        "mjml": "",
        "createdAt": rfc2822(ctx.sb.now()),
        "comment": ctx.arg("comment") or "",
        "active": False,
        "id": str(uuid.uuid4()),
    }
    headers = _headers(ctx)
    if headers:
        version["headers"] = headers
    return version


def _activate(doc: dict[str, Any], tag: str) -> None:
    for other_tag, version in doc["versions"].items():
        version["active"] = other_tag == tag


# -- templates ----------------------------------------------------------------------------------


@router.get("/v3/{domain}/templates")
async def list_templates(ctx: Ctx) -> dict:
    domain = ctx.path["domain"]
    ctx.sb.domain(domain)
    check_page(ctx, _BAD_PAGE)
    items = sorted((_summary(d) for d in ctx.state.list("template", f"{domain}/")), key=lambda d: d["name"])
    return page_by_urls(items, ctx, pivot="p", key=lambda d: d["name"], default_limit=10, max_limit=100)


@router.post("/v3/{domain}/templates")
async def create_template(ctx: Ctx) -> dict:
    domain = ctx.path["domain"]
    name = _name(ctx.require("name"))
    content = _content(ctx, required=False)
    with ctx.state.transaction():
        ctx.sb.domain(domain)
        ctx.sb.absent("template", _key(domain, name), f"template with name '{name}' already exists", status=409)
        if ctx.state.count("template", f"{domain}/") >= MAX_TEMPLATES:
            raise ApiError(400, f"template limit reached: a domain can store up to {MAX_TEMPLATES} templates")
        doc: dict[str, Any] = {
            "name": name,
            "description": ctx.arg("description") or "",
            "createdAt": rfc2822(ctx.sb.now()),
            "createdBy": ctx.arg("createdBy") or "",
            "id": str(uuid.uuid4()),
            "versions": {},
        }
        out = _summary(doc)
        if content is not None:
            version = _new_version(ctx, ctx.text("tag") or "initial", content)
            version["active"] = True  # the first version is always the active one
            doc["versions"][version["tag"]] = version
            out["version"] = _version_out(version)
        ctx.state.put("template", _key(domain, name), doc)
    return {"message": "template has been stored", "template": out}


@router.delete("/v3/{domain}/templates")
async def delete_templates(ctx: Ctx) -> dict:
    domain = ctx.path["domain"]
    with ctx.state.transaction():
        ctx.sb.domain(domain)
        ctx.state.clear("template", f"{domain}/")
    return {"message": "templates have been deleted"}


@router.get("/v3/{domain}/templates/{template_name}")
async def get_template(ctx: Ctx) -> dict:
    doc = _load(ctx)
    out = _summary(doc)
    if ctx.bool_arg("active", False):
        active = next((v for v in doc["versions"].values() if v.get("active")), None)
        if active is not None:
            out["version"] = _version_out(active)
    return {"template": out}


@router.put("/v3/{domain}/templates/{template_name}")
async def update_template(ctx: Ctx) -> dict:
    if not ctx.has("description"):
        raise ApiError(400, "No fields are provided to update")
    with ctx.state.transaction():
        doc = _load(ctx)
        doc["description"] = ctx.arg("description") or ""
        _save(ctx, doc)
    return {"message": "template has been updated", "template": {"name": doc["name"]}}


@router.delete("/v3/{domain}/templates/{template_name}")
async def delete_template(ctx: Ctx) -> dict:
    with ctx.state.transaction():
        doc = _load(ctx)
        ctx.state.delete("template", _key(ctx.path["domain"], doc["name"]))
    return {"message": "template has been deleted", "template": {"name": doc["name"]}}


# -- versions -----------------------------------------------------------------------------------


@router.get("/v3/{domain}/templates/{template_name}/versions")
async def list_versions(ctx: Ctx) -> dict:
    doc = _load(ctx)
    check_page(ctx, _BAD_PAGE)
    versions = sorted((_version_out(v, content=False) for v in doc["versions"].values()), key=lambda v: v["tag"])
    page = page_by_urls(versions, ctx, pivot="p", key=lambda v: v["tag"], default_limit=10, max_limit=100)
    return {"template": {**_summary(doc), "versions": page["items"]}, "paging": page["paging"]}


@router.post("/v3/{domain}/templates/{template_name}/versions")
async def create_version(ctx: Ctx) -> dict:
    content = _content(ctx, required=True)
    tag = ctx.require("tag")
    with ctx.state.transaction():
        doc = _load(ctx)
        if tag in doc["versions"]:
            raise ApiError(409, f"version with tag '{tag}' already exists")
        if len(doc["versions"]) >= MAX_VERSIONS:
            raise ApiError(400, f"version limit reached: a template can store up to {MAX_VERSIONS} versions")
        version = _new_version(ctx, tag, content)
        doc["versions"][tag] = version
        if len(doc["versions"]) == 1 or ctx.bool_arg("active", False):
            _activate(doc, tag)
        _save(ctx, doc)
    return {
        "message": "new version of the template has been stored",
        "template": {**_summary(doc), "version": _version_out(version)},
    }


def _version(doc: dict[str, Any], tag: str) -> dict[str, Any]:
    version = doc["versions"].get(tag)
    if version is None:
        raise ApiError(404, "version not found")
    return version


@router.get("/v3/{domain}/templates/{template_name}/versions/{template_version}")
async def get_version(ctx: Ctx) -> dict:
    doc = _load(ctx)
    version = _version(doc, ctx.path["template_version"])
    return {"template": {**_summary(doc), "version": _version_out(version)}}


@router.put("/v3/{domain}/templates/{template_name}/versions/{template_version}")
async def update_version(ctx: Ctx) -> dict:
    tag = ctx.path["template_version"]
    if not any(ctx.has(f) for f in ("template", "comment", "active", "headers", "engine")):
        raise ApiError(400, "No fields are provided to update")
    with ctx.state.transaction():
        doc = _load(ctx)
        version = _version(doc, tag)
        content = _content(ctx, required=False)
        if content is not None:
            version["template"] = content
        if ctx.has("comment"):
            version["comment"] = ctx.arg("comment") or ""
        if ctx.has("engine"):
            version["engine"] = _engine(ctx)
        headers = _headers(ctx)
        if headers is not None:
            version["headers"] = headers
        if ctx.bool_arg("active", False):
            _activate(doc, tag)
        _save(ctx, doc)
    return {"message": "version has been updated", "template": {"name": doc["name"], "version": {"tag": tag}}}


@router.delete("/v3/{domain}/templates/{template_name}/versions/{template_version}")
async def delete_version(ctx: Ctx) -> dict:
    tag = ctx.path["template_version"]
    with ctx.state.transaction():
        doc = _load(ctx)
        _version(doc, tag)
        del doc["versions"][tag]
        _save(ctx, doc)
    return {"message": "version has been deleted", "template": {"name": doc["name"], "version": {"tag": tag}}}


@router.put("/v3/{domain}/templates/{template_name}/versions/{template_version}/copy/{new_template_version}")
async def copy_version(ctx: Ctx) -> dict:
    tag, new_tag = ctx.path["template_version"], ctx.path["new_template_version"]
    with ctx.state.transaction():
        doc = _load(ctx)
        source = _version(doc, tag)
        replaced = doc["versions"].get(new_tag)
        if replaced is None and len(doc["versions"]) >= MAX_VERSIONS:
            raise ApiError(400, f"version limit reached: a template can store up to {MAX_VERSIONS} versions")
        if not new_tag.strip() or len(new_tag) > 255:
            raise ApiError(400, "Invalid parameter: tag is invalid")
        copy = {
            **source,
            "tag": new_tag,
            "createdAt": rfc2822(ctx.sb.now()),
            "comment": ctx.arg("comment") if ctx.has("comment") else source.get("comment", ""),
            "active": bool(replaced and replaced.get("active")),  # overwriting keeps the active flag
            "id": str(uuid.uuid4()),
        }
        doc["versions"][new_tag] = copy
        _save(ctx, doc)
    # "template" is Mailgun's deprecated spelling of "version": the same version object.
    return {"message": "version has been copied", "version": _version_out(copy), "template": _version_out(copy)}
