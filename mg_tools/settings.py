"""Every setting mg-tools reads from the environment, in one model that is built once and passed down.

:meth:`Settings.from_env` reads the ``MAILGUN_*`` and ``MG_TOOLS_*`` variables (and
``XDG_STATE_HOME``); nothing else in mg-tools reads the environment. The command line builds it
once; a :class:`~mg_tools.toolkit.Toolkit` takes it (or builds it) and hands each part to what
uses it: the policy switches, the plugins to block, the attachment roots, the state directory, the
HTTP token, identities and hosts, the audit trail, the log level. The README's configuration table
is made from the field descriptions (``mg-tools settings --markdown``).

A switch takes ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (or nothing); anything
else is refused rather than guessed, since a typo must not switch a safety off.

A plain pydantic model read in a few lines rather than a pydantic-settings one: that package takes
over 0.1 s to import, a fifth of what a whole dry run of the command line may take, for nothing
these flat string variables need.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError

from mg_tools.errors import ConfigurationError
from mg_tools.types import subaccount_id

__all__ = ["READ_ONLY_ENV", "Settings", "env_flag", "forced_read_only", "markdown_table"]

READ_ONLY_ENV = "MG_TOOLS_READ_ONLY"
_TRUTHY = frozenset({"1", "true", "yes", "on"})
_FALSY = frozenset({"", "0", "false", "no", "off"})
_NOT_A_SWITCH = "is not a switch value; use 1 or 0"


def _switch(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUTHY:
        return True
    if text in _FALSY:
        return False
    raise ValueError(_NOT_A_SWITCH)


def _comma_list(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    return tuple(item.strip() for item in items if item and item.strip())


def _path_list(value: Any) -> tuple[Path, ...]:
    items = value.split(os.pathsep) if isinstance(value, str) else value
    return tuple(Path(item).expanduser() for item in items if str(item).strip())


Switch = Annotated[bool, BeforeValidator(_switch)]
CommaList = Annotated[tuple[str, ...], BeforeValidator(_comma_list)]
PathList = Annotated[tuple[Path, ...], BeforeValidator(_path_list)]


class Settings(BaseModel):
    """The configuration of one process: each field is one environment variable (its alias).

    ``Settings.from_env()`` reads the environment (or a mapping); ``Settings(read_only=True, ...)``
    sets fields by name, the rest keeping their defaults.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    api_key: SecretStr | None = Field(
        None, alias="MAILGUN_API_KEY", description=("your Mailgun API key; with it, calls go to real Mailgun")
    )
    region: str | None = Field(None, alias="MAILGUN_API_REGION", description="`us` (default) or `eu`")
    base_url: str | None = Field(
        None,
        alias="MAILGUN_API_BASE_URL",
        description=("any base URL instead (e.g. a standalone sandbox: `http://127.0.0.1:8025`)"),
    )
    webhook_signing_key: SecretStr | None = Field(
        None,
        alias="MAILGUN_WEBHOOK_SIGNING_KEY",
        description=("the key Mailgun signs webhooks with, for `mg-tools webhooks listen`"),
    )
    subaccount: Annotated[str | None, BeforeValidator(subaccount_id)] = Field(
        None,
        alias="MG_TOOLS_SUBACCOUNT",
        description=("act for this subaccount (its id): every request carries `X-Mailgun-On-Behalf-Of`"),
    )
    grants: CommaList = Field(
        (), alias="MG_TOOLS_GRANTS", description=("comma-separated grant patterns (default `*:*`)")
    )
    deny: CommaList = Field(
        (), alias="MG_TOOLS_DENY", description=("patterns that are always refused, e.g. `delete_*,*:send`")
    )
    read_only: Switch = Field(
        False,
        alias=READ_ONLY_ENV,
        description=("`1` to allow only read operations; wins over every other switch and flag"),
    )
    confirm: CommaList = Field(
        (), alias="MG_TOOLS_CONFIRM", description=("patterns that need a confirmation token, e.g. `*:send,*:delete`")
    )
    policy_file: Path | None = Field(
        None,
        alias="MG_TOOLS_POLICY",
        description=("a Cedar policy file every call must satisfy (see docs/policy.md); checked at start-up"),
    )
    identity: str = Field(
        "local", alias="MG_TOOLS_IDENTITY", description=("who local calls are made as (default `local`)")
    )
    allow_secrets: Switch = Field(
        False,
        alias="MG_TOOLS_ALLOW_SECRETS",
        description=("`1` to return secrets (new API keys, SMTP passwords) unredacted"),
    )
    files_dir: PathList = Field(
        (),
        alias="MG_TOOLS_FILES_DIR",
        description=(
            "directories attachments may be read from (`:`-separated); default: the working directory, unless it "
            "is `/`, `/etc`, your home directory or a system tree (then none)"
        ),
    )
    block_plugins: CommaList = Field(
        (), alias="MG_TOOLS_BLOCK_PLUGINS", description=("plugins (entry-point names) not to load, e.g. `events,logs`")
    )
    state_dir: Path | None = Field(
        None,
        alias="MG_TOOLS_STATE_DIR",
        description=(
            "where state is kept (sandbox, confirmation key and ledger, quota counters, schema cache); "
            "default `$XDG_STATE_HOME/mg-tools`, mode 0700"
        ),
    )
    xdg_state_home: Path | None = Field(
        None, alias="XDG_STATE_HOME", description=("the base of the default state directory (default `~/.local/state`)")
    )
    http_token: SecretStr | None = Field(
        None,
        alias="MG_TOOLS_HTTP_TOKEN",
        description=("bearer token for the HTTP transport (required beyond loopback)"),
    )
    http_allowed_hosts: CommaList = Field(
        (),
        alias="MG_TOOLS_HTTP_ALLOWED_HOSTS",
        description=("extra Host names the HTTP transport accepts (behind a reverse proxy)"),
    )
    redis_url: SecretStr | None = Field(
        None,
        alias="MG_TOOLS_REDIS_URL",
        description=(
            "Redis URL (`redis://[:password@]host:6379/0`, `rediss://` for TLS) holding what several replicas share: "
            "trimmed results, used confirmation tokens and their key, quota counters, bulk-send jobs "
            "(see docs/scaling.md)"
        ),
    )
    job_lease: float | None = Field(
        None,
        gt=0,
        alias="MG_TOOLS_JOB_LEASE",
        description=(
            "with `MG_TOOLS_REDIS_URL`: seconds a bulk-send job stays held by a replica that stopped (killed) before "
            "another may resume it (default twice the longest call, 600)"
        ),
    )
    identities: Path | None = Field(
        None,
        alias="MG_TOOLS_IDENTITIES",
        description=(
            "TOML file of HTTP identities: per bearer token (stored as its SHA-256) its own grants, deny, read-only "
            "and subaccount"
        ),
    )
    audit: str | None = Field(
        None, alias="MG_TOOLS_AUDIT", description=("append one JSON line per call attempt to this file (`-`: stderr)")
    )
    audit_bodies: Switch = Field(
        False,
        alias="MG_TOOLS_AUDIT_BODIES",
        description=("`1` to keep message bodies, attachment contents and template content in the audit trail"),
    )
    log_level: str = Field(
        "warning",
        alias="MG_TOOLS_LOG_LEVEL",
        description=("`debug`, `info`, `warning` (default); logs are JSON on stderr, secrets redacted"),
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``environ`` (default: the process environment); an unset or blank
        variable keeps the default. A value that is not valid is a ``ConfigurationError`` naming it."""
        env = os.environ if environ is None else environ
        values = {f.alias: env[f.alias] for f in cls.model_fields.values() if env.get(f.alias, "").strip()}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigurationError(_problems(exc, values)) from None

    @property
    def state_path(self) -> Path:
        """The state directory: ``MG_TOOLS_STATE_DIR``, else ``$XDG_STATE_HOME/mg-tools``, else
        ``~/.local/state/mg-tools`` (not created here)."""
        if self.state_dir is not None:
            return self.state_dir.expanduser()
        return (self.xdg_state_home or Path.home() / ".local" / "state") / "mg-tools"

    def secret(self, name: str) -> str | None:
        """The plain value of the secret field ``name`` (``api_key``, ``http_token``, ``redis_url``), None
        when unset."""
        value: SecretStr | None = getattr(self, name)
        if value is None:
            return None
        return value.get_secret_value().strip() or None


def _problems(exc: ValidationError, values: Mapping[str, str]) -> str:
    """One line naming every variable whose value was refused, and why."""
    problems = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "settings"
        why = _NOT_A_SWITCH if _NOT_A_SWITCH in error["msg"] else f"is refused: {error['msg']}"
        problems.append(f"{name}={values.get(name, '')!r} {why}")
    return "; ".join(problems)


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    """The boolean switch ``name`` in ``environ``; a value that is no switch is a ``ConfigurationError``."""
    try:
        return _switch(environ.get(name, ""))
    except ValueError:
        raise ConfigurationError(f"{name}={environ[name]!r} {_NOT_A_SWITCH}") from None


def forced_read_only(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``MG_TOOLS_READ_ONLY`` is on: it makes every policy read-only, however it was built."""
    return env_flag(os.environ if environ is None else environ, READ_ONLY_ENV)


def markdown_table() -> str:
    """The README's configuration table: one row per variable, from the field descriptions."""
    rows = ["| variable | meaning |", "|---|---|"]
    rows += [f"| `{field.alias}` | {field.description} |" for field in Settings.model_fields.values()]
    return "\n".join(rows) + "\n"
