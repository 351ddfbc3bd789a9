"""Prompts for the jobs users repeat: each names the tools to use, in order, with the user's arguments.

A prompt is data: a name, a description, its arguments and its steps (a tool and what to do with
it). Its text is written from the steps, so every tool it names is a real tool; a prompt is offered
only when the caller may use every tool it names. In discover mode the text says to run each tool
through ``call_operation``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

__all__ = ["PROMPTS", "Argument", "Prompt", "Step"]


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of a prompt; required unless said otherwise."""

    name: str
    description: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a prompt: the tool to run and what to do with its answer (``{argument}`` is filled in)."""

    tool: str
    what: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """A repeated job: ``goal`` and each step's text may name the arguments as ``{name}``."""

    name: str
    description: str
    arguments: tuple[Argument, ...]
    goal: str
    steps: tuple[Step, ...]

    @property
    def tools(self) -> tuple[str, ...]:
        """The tools the steps name, in order."""
        return tuple(step.tool for step in self.steps)

    def usable(self, tools: Collection[str]) -> bool:
        """Whether every tool the prompt names is among ``tools``."""
        return all(tool in tools for tool in self.tools)

    def text(self, values: dict[str, str], *, discover: bool = False) -> str:
        """The prompt's message with ``values`` for its arguments (missing optional ones left as "not given")."""
        filled = {a.name: values.get(a.name) or "(not given)" for a in self.arguments}
        how = (
            "Run each tool through call_operation(name=..., arguments={...}); describe_operation shows its arguments."
            if discover
            else "Use these tools in this order:"
        )
        lines = [self.goal.format(**filled), how]
        lines += [f"{n}. {step.tool}: {step.what.format(**filled)}" for n, step in enumerate(self.steps, 1)]
        return "\n".join(lines)


_DOMAIN = Argument("domain", "The sending domain, e.g. mg.example.com")

PROMPTS: tuple[Prompt, ...] = (
    Prompt(
        "diagnose_delivery",
        "Find out why mail to an address did not arrive, and what to do about it.",
        (Argument("recipient", "The address that did not get the mail"), _DOMAIN),
        "Find out why mail from {domain} to {recipient} did not arrive, and say what to do next.",
        (
            Step(
                "trace_message", "domain={domain}, recipient={recipient}: each message's timeline, status and advice."
            ),
            Step(
                "check_suppression",
                "domain={domain}, address={recipient}: is it on a bounce, unsubscribe or complaint list?",
            ),
            Step(
                "list_events", "domain={domain}, recipient={recipient}, event='failed OR rejected': the exact errors."
            ),
            Step("get_domain", "domain={domain}: is the domain active and verified?"),
        ),
    ),
    Prompt(
        "set_up_sending_domain",
        "Add a new sending domain and walk through its DNS setup until it verifies.",
        (_DOMAIN,),
        "Set up {domain} as a new sending domain.",
        (
            Step("create_domain", "domain={domain}: add it (skip if get_domain already finds it)."),
            Step("check_domain_setup", "domain={domain}: the DNS records to publish and which are missing or wrong."),
            Step("verify_domain", "domain={domain}: once the user has published the records, check them again."),
            Step("get_domain", "domain={domain}: confirm the state is active before sending."),
        ),
    ),
    Prompt(
        "clean_bounced_members",
        "Remove addresses that hard-bounced from a mailing list.",
        (Argument("list_address", "The mailing list, e.g. news@mg.example.com"), _DOMAIN),
        "Remove from the mailing list {list_address} every member whose address bounced on {domain}.",
        (
            Step("list_bounces", "domain={domain}: the bounced addresses (follow next_cursor to the end)."),
            Step("list_list_members", "list_address={list_address}: the members (follow next_cursor to the end)."),
            Step(
                "update_list_member",
                "list_address={list_address}, subscribed=false for each member on the bounce list; show the user "
                "the addresses first (delete_list_member only if they ask to remove them for good).",
            ),
        ),
    ),
    Prompt(
        "report_campaign",
        "Report how a campaign (a tag) did over the last week.",
        (Argument("tag", "The campaign's tag"), _DOMAIN),
        "Report on the campaign tagged {tag} (domain: {domain}) over the last 7 days.",
        (
            Step(
                "campaign_report", "tag={tag}, domain={domain} if given, duration=7d: delivery, opens, clicks, bounces."
            ),
            Step("list_events", "domain={domain}, tags={tag}, event='failed': the failures worth a closer look."),
        ),
    ),
)
