"""Fixtures of the adapter tests: sandbox toolkits with their own state directory and audit trail."""

from __future__ import annotations

import pytest
from adapters_support import DOMAIN

from mg_tools import Policy, Settings, Toolkit


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def trail(tmp_path):
    """The audit trail the toolkits of a test write; read it with ``audit_records``."""
    return tmp_path / "audit.jsonl"


@pytest.fixture
def make_toolkit(tmp_path, trail):
    """Builds sandbox toolkits (``policy`` as :meth:`Policy.build` takes it) and closes them after."""
    made: list[Toolkit] = []
    settings = Settings.from_env({"MG_TOOLS_STATE_DIR": str(tmp_path / "state"), "MG_TOOLS_AUDIT": str(trail)})

    def make(policy_file=None, **policy: str | bool) -> Toolkit:
        toolkit = Toolkit(sandbox=True, settings=settings, policy=Policy.build(**policy), policy_file=policy_file)
        made.append(toolkit)
        return toolkit

    yield make
    for toolkit in made:
        toolkit.close()


@pytest.fixture
def keep_domain(tmp_path):
    """A Cedar policy set allowing everything but deletes on the sandbox's domain."""
    path = tmp_path / "keep.cedar"
    path.write_text(
        "permit (principal, action, resource);\n"
        '@id("keep-domain")\n'
        f'forbid (principal, action in Action::"delete", resource == Domain::"{DOMAIN}");\n'
    )
    return path
