import pytest
from pydantic import BaseModel

from mg_tools import Access, Operation, Registry, RegistryError, UnknownOperation, hookimpl
from mg_tools.registry import make_plugin_manager
from mg_tools.types import Cursor, Domain, Params


class GetThing(Params):
    """Get a thing."""

    domain: Domain


class Undocumented(BaseModel):
    domain: str


def make(name="get_thing", path="/v3/{domain}/things", params=GetThing, access=Access.READ, **kw):
    return Operation(name, "GET", path, params, access, **kw)


def test_builtin_plugins_load_through_entry_points():
    registry = Registry.from_plugins(make_plugin_manager())
    assert {"send_message", "list_domains"} <= {op.name for op in registry}
    assert registry.get("send_message").plugin == "messages"
    assert registry.get("send_message").area == "messages"


def test_a_builtin_plugin_can_be_blocked_and_replaced():
    class MyListDomains(Params):
        """My own list."""

    class Replacement:
        @hookimpl
        def register_operations(register):
            register(Operation("list_domains", "GET", "/v4/domains", MyListDomains, Access.READ, area="domains"))

    registry = Registry.from_plugins(make_plugin_manager(blocked=["domains"], plugins=[Replacement]))
    assert "get_domain" not in registry
    assert registry.get("list_domains").description == "My own list."


def test_duplicate_names_stop_start_up_naming_both_plugins():
    registry = Registry()
    registry.add(make(), plugin="one")
    with pytest.raises(RegistryError, match=r"plugin 'two'.*duplicate operation 'get_thing'.*plugin 'one'"):
        registry.add(make(), plugin="two")


@pytest.mark.parametrize(
    ("op", "problem"),
    [
        (make(name="GetThing"), "name must match"),
        (make(name="x" * 65), "name must match"),
        (make(path="/v3/{domain}/things/{id}"), "path parameter(s) id missing from GetThing"),
        (make(access="read"), "unknown access"),
        (make(params=Undocumented), "needs a docstring"),
        (make(params=dict), "params must be a pydantic model"),
        (make(path="v3/things"), "must start with '/'"),
        (make(paging="urls"), "needs a `cursor: Cursor = None` field"),
        (Operation("get_thing", "FETCH", "/v3/{domain}", GetThing, Access.READ), "unknown method"),
    ],
)
def test_invalid_declarations_are_refused(op, problem):
    with pytest.raises(RegistryError, match="plugin 'acme'") as info:
        Registry().add(op, plugin="acme")
    assert problem in str(info.value)


def test_unknown_operation_suggests_close_names():
    registry = Registry([make(plugin="p")])
    with pytest.raises(UnknownOperation, match="Did you mean: get_thing"):
        registry.get("get_thin")


def test_area_defaults_to_plugin_and_can_be_explicit():
    class Paged(Params):
        """Paged things."""

        cursor: Cursor = None

    registry = Registry()
    registry.add(make(), plugin="acme_plugins.things")
    registry.add(Operation("list_things", "GET", "/v3/things", Paged, Access.READ, area="stuff", paging="urls"),
                 plugin="x")
    assert registry.get("get_thing").area == "things"
    assert registry.get("list_things").area == "stuff"
    assert registry.areas == ("stuff", "things")


def test_no_operations_at_all_is_a_clear_error():
    with pytest.raises(RegistryError, match="no operations registered"):
        Registry.from_plugins(make_plugin_manager(entry_points=False))


@pytest.mark.parametrize("thing", [object(), "get_thing", None, 42])
def test_registering_something_that_is_not_an_operation_names_the_problem(thing):
    with pytest.raises(RegistryError, match="register\\(\\) takes an Operation"):
        Registry().add(thing)


def test_blocking_a_plugin_that_is_not_installed_is_refused():
    from mg_tools import ConfigurationError

    with pytest.raises(ConfigurationError, match="cannot block 'domian': no installed plugin has that name"):
        make_plugin_manager(blocked=["domian"])


def test_blocked_plugins_come_from_the_environment(monkeypatch):
    from mg_tools import Toolkit

    monkeypatch.setenv("MG_TOOLS_BLOCK_PLUGINS", "events, logs")
    for toolkit in (Toolkit(), Toolkit.from_env()):
        names = {op.name for op in toolkit.operations()}
        assert "list_events" not in names and "list_logs" not in names and "send_message" in names
    assert "list_events" in {op.name for op in Toolkit(blocked_plugins=()).operations()}
