from pathlib import Path

import pytest
from pydantic import BaseModel

from mg_tools import Access, Operation, Registry, RegistryError, UnknownOperation, hookimpl
from mg_tools.registry import VOCABULARY, make_plugin_manager
from mg_tools.types import Cursor, Domain, Params


class GetThing(Params):
    """Get a thing."""

    domain: Domain


class Undocumented(BaseModel):
    domain: str


async def _sum(args, call):
    return {}


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
        (Operation("get_thing", "", "/v3/{domain}", GetThing, Access.READ), "unknown method ''"),
        (Operation("sum_things", "GET", "", GetThing, Access.READ, handler=_sum), "composite operation"),
        (Operation("sum_things", "", "/v3/{domain}", GetThing, Access.READ, handler=_sum), "composite operation"),
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
    registry.add(
        Operation("list_things", "GET", "/v3/things", Paged, Access.READ, area="stuff", paging="urls"), plugin="x"
    )
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


def test_a_composite_has_no_method_and_is_null_in_the_tools_listing():
    op = Operation("sum_things", "", "", GetThing, Access.READ, handler=_sum)
    Registry().add(op, plugin="acme")
    assert op.summary()["method"] is None and op.summary()["path"] == ""
    assert op.idempotent
    assert not Operation("send_things", "", "", GetThing, Access.SEND, handler=_sum).idempotent


class ListLetters(Params):
    """List letters."""

    domain_name: str
    page_size: int = 10
    page_token: str | None = None


@pytest.mark.parametrize(
    ("synonym", "name"),
    [
        ("domain_name", "domain"),
        ("member_address", "address"),
        ("email", "address"),
        ("list", "list_address"),
        ("mailing_list", "list_address"),
        ("content", "template"),
        ("page_size", "limit"),
        ("max", "limit"),
        ("count", "limit"),
        ("page_token", "cursor"),
        ("next", "cursor"),
        ("offset", "skip"),
    ],
)
def test_a_synonym_of_a_vocabulary_name_is_refused_naming_plugin_operation_field_and_name(synonym, name):
    from pydantic import create_model

    params = create_model("Things", __base__=Params, __doc__="Get things.", **{synonym: (str, ...)})
    with pytest.raises(RegistryError) as info:
        Registry().add(Operation("acme_things", "GET", "/v3/things", params, Access.READ), plugin="acme")
    message = str(info.value)
    assert "plugin 'acme'" in message and "operation 'acme_things'" in message
    assert f"field {synonym!r} goes by {name!r} in every tool: name it {name!r}" in message


def test_every_synonym_in_a_model_is_named_at_once():
    with pytest.raises(RegistryError) as info:
        Registry().add(Operation("list_letters", "GET", "/v3/letters", ListLetters, Access.READ), plugin="acme")
    assert all(f"field {field!r}" in str(info.value) for field in ("domain_name", "page_size", "page_token"))


def test_the_builtin_tools_keep_the_vocabulary():
    registry = Registry.from_plugins(make_plugin_manager())
    fields = {field for op in registry for field in op.params.model_fields}
    assert not fields & {synonym for synonyms in VOCABULARY.values() for synonym in synonyms}
    assert {"domain", "address", "list_address", "template", "template_name", "limit", "cursor"} <= fields


def test_the_vocabulary_is_written_down_in_the_plugin_guide():
    guide = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text()
    for name, synonyms in VOCABULARY.items():
        assert f"| `{name}` |" in guide, name
        assert all(f"`{synonym}`" in guide for synonym in synonyms), name


def test_registering_stamps_how_people_ask_for_each_operation():
    from mg_tools import registering

    hook = registering([make(), make("list_things", "/v3/{domain}/things")], asks={"get_thing": ("look a thing up",)})
    registered = []
    hook(registered.append)
    assert {op.name: op.asks for op in registered} == {"get_thing": ("look a thing up",), "list_things": ()}


def test_asks_for_an_operation_the_table_does_not_have_is_refused():
    from mg_tools import registering

    with pytest.raises(ValueError, match="asks name operations that are not in the table: get_thnig"):
        registering([make()], asks={"get_thnig": ("look a thing up",)})


def test_every_builtin_operation_says_how_people_ask_for_it():
    registry = Registry.from_plugins(make_plugin_manager())
    assert not [op.name for op in registry if not op.asks]
