"""The registry: every operation from every plugin, collected and checked once at start-up."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

import pluggy
from pydantic import BaseModel

from mg_tools.errors import ConfigurationError, RegistryError, UnknownOperation
from mg_tools.operation import METHODS, NAME_PATTERN, Access, Operation
from mg_tools.types import CURSOR

__all__ = ["ENTRY_POINT_GROUP", "Registry", "VOCABULARY", "make_plugin_manager"]

ENTRY_POINT_GROUP = "mg_tools"

#: One name per concept across all tools (docs/plugins.md): each name, and the other names it goes by
#: that a params field may not take. Mailgun's own name for a field, where it differs, is an alias.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "domain": ("domain_name", "sending_domain", "domain_id"),
    "address": ("email", "email_address", "member_address", "member_email"),
    "list_address": ("list", "mailing_list", "mailing_list_address", "list_email", "list_id"),
    "template_name": ("template_id",),
    "template": ("content", "template_content", "template_body"),
    "template_version": ("version_tag", "template_tag"),
    "sender": ("from_", "from_address", "sender_address"),
    "limit": ("page_size", "per_page", "max", "max_results", "count"),
    "cursor": ("page_token", "next", "next_page", "next_cursor", "page_cursor", "continuation_token"),
    "skip": ("offset",),
    "ip": ("ip_address", "addr"),
    "pool_id": ("ip_pool_id", "dipp_id"),
}
_SYNONYMS = {synonym: name for name, synonyms in VOCABULARY.items() for synonym in synonyms}


def make_plugin_manager(
    *, blocked: Iterable[str] = (), plugins: Iterable[object] = (), entry_points: bool = True
) -> pluggy.PluginManager:
    """A plugin manager with the installed plugins (built-ins included) loaded from entry points.

    ``blocked`` names plugins (entry-point names such as ``"messages"``) to skip; ``plugins`` are
    extra plugin objects or modules registered directly, as tests and embedding code do.
    """
    from mg_tools import hookspecs

    pm = pluggy.PluginManager("mg_tools")
    pm.add_hookspecs(hookspecs)
    blocked = [name.strip() for name in blocked if name and name.strip()]
    if blocked:
        from importlib.metadata import entry_points as installed

        known = {ep.name for ep in installed(group=ENTRY_POINT_GROUP)}
        unknown = [name for name in blocked if name not in known]
        if unknown:
            # A misspelled block must not leave the plugin it meant to block running.
            raise ConfigurationError(
                f"cannot block {', '.join(map(repr, unknown))}: no installed plugin has that name "
                f"(installed: {', '.join(sorted(known))})"
            )
    for name in blocked:
        pm.set_blocked(name)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in plugins:
        pm.register(plugin, name=getattr(plugin, "__name__", None))
    pm.check_pending()
    return pm


class Registry:
    """The operations, by name. Construction validates every declaration and fails loudly."""

    def __init__(self, operations: Iterable[Operation] = ()) -> None:
        self._ops: dict[str, Operation] = {}
        for op in operations:
            self.add(op)

    @classmethod
    def from_plugins(cls, pm: pluggy.PluginManager) -> Registry:
        registry = cls()
        for impl in pm.hook.register_operations.get_hookimpls():
            plugin = impl.plugin_name

            def register(op: Operation, _plugin: str = plugin) -> None:
                registry.add(op, plugin=_plugin)

            impl.function(register=register)
        if not registry._ops:
            raise RegistryError("no operations registered: is mg-tools installed (pip install -e .) with its plugins?")
        return registry

    def add(self, op: Operation, *, plugin: str = "") -> None:
        """Validate and add one operation, stamping it with its plugin and (by default) its area."""
        if not isinstance(op, Operation):
            raise RegistryError(f"register() takes an Operation, got {type(op).__name__}", plugin=plugin or None)
        plugin = plugin or op.plugin
        op = op.stamped(plugin=plugin, area=op.area or _area_of(plugin))
        problems = _problems(op)
        if problems:
            raise RegistryError(f"operation {op.name!r}: {'; '.join(problems)}", plugin=plugin)
        if op.name in self._ops:
            other = self._ops[op.name].plugin
            raise RegistryError(
                f"duplicate operation {op.name!r}, already registered by plugin {other!r}; "
                "block one of the plugins or rename the operation",
                plugin=plugin,
            )
        self._ops[op.name] = op

    def get(self, name: str) -> Operation:
        try:
            return self._ops[name]
        except KeyError:
            close = difflib.get_close_matches(str(name), self._ops, n=3, cutoff=0.6)
            raise UnknownOperation(str(name), suggestions=tuple(close)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def __iter__(self) -> Iterator[Operation]:
        return iter(sorted(self._ops.values(), key=lambda op: (op.area, op.name)))

    def __len__(self) -> int:
        return len(self._ops)

    @property
    def areas(self) -> tuple[str, ...]:
        return tuple(sorted({op.area for op in self._ops.values()}))


def _area_of(plugin: str) -> str:
    # Third-party plugins are often registered under a module path; the area is its last part.
    return plugin.rsplit(".", 1)[-1].removeprefix("mg_tools_") or "custom"


def _problems(op: Operation) -> list[str]:
    problems = []
    if not NAME_PATTERN.match(op.name or ""):
        problems.append("name must match ^[a-z][a-z0-9_]{0,63}$")
    if op.handler is None and op.method not in METHODS:
        problems.append(f"unknown method {op.method!r}")
    if not isinstance(op.access, Access):
        problems.append(f"unknown access {op.access!r}; use Access.READ, WRITE, DELETE or SEND")
    if op.handler is None and not op.path.startswith("/"):
        problems.append("path must start with '/'")
    if op.handler is not None and (op.method or op.path):
        problems.append("a composite operation (with a handler) sends no request of its own: method='' and path=''")
    if not (isinstance(op.params, type) and issubclass(op.params, BaseModel)):
        problems.append("params must be a pydantic model class")
        return problems
    fields = op.params.model_fields
    missing = [p for p in op.path_params if p not in fields]
    if missing:
        problems.append(f"path parameter(s) {', '.join(missing)} missing from {op.params.__name__}")
    if not op.description:
        problems.append(f"{op.params.__name__} needs a docstring: it is the tool description")
    problems.extend(_off_vocabulary(fields))
    has_cursor = any(CURSOR in f.metadata for f in fields.values())
    if op.paging and not has_cursor:
        problems.append("a paged operation needs a `cursor: Cursor = None` field")
    if not NAME_PATTERN.match(op.area):
        problems.append(f"area {op.area!r} must be snake_case")
    return problems


def _off_vocabulary(fields: Iterable[str]) -> list[str]:
    return [
        f"field {name!r} goes by {_SYNONYMS[name]!r} in every tool: name it {_SYNONYMS[name]!r} (Mailgun's "
        "name, where it differs, is its serialization_alias)"
        for name in fields
        if name in _SYNONYMS
    ]
