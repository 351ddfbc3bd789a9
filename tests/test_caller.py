import asyncio

from mg_tools.caller import DEFAULT_IDENTITY, Caller, acting_as, current


def test_no_caller_outside_acting_as():
    assert current() is None
    with acting_as(Caller("bot")) as caller:
        assert current() is caller and caller.identity == "bot"
        with acting_as(Caller("other", subaccount="sub1")):
            assert current().subaccount == "sub1"
        assert current() is caller
    assert current() is None
    assert Caller().identity == DEFAULT_IDENTITY


def test_concurrent_tasks_keep_their_own_caller():
    async def task(name: str) -> str:
        with acting_as(Caller(name)):
            await asyncio.sleep(0)
            return current().identity

    async def main() -> list[str]:
        return await asyncio.gather(*(task(f"id{i}") for i in range(5)))

    assert asyncio.run(main()) == [f"id{i}" for i in range(5)]
