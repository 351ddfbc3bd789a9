"""Running a bulk send: batches of at most 1000 recipients, each one ``send_message`` call through the
executor (validation, policy, rules, quotas and audit apply per batch), journaled so that a job stopped
part way (killed, refused, rate limited, Mailgun failing) resumes without sending any batch twice.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from mg_tools import progress
from mg_tools.bulk.journal import Batch, JobBusy, JobRecord, Journal, now
from mg_tools.bulk.recipients import (
    BATCH_SIZE,
    BadRecipients,
    Recipient,
    batches,
    digest,
    parse_recipients,
    recipients_of,
)
from mg_tools.errors import (
    ConfigurationError,
    ConfirmationRequired,
    InvalidArguments,
    MailgunError,
    MgToolsError,
    PolicyDenied,
    RateLimited,
    StateUnavailable,
    TransportError,
)
from mg_tools.request import read_local
from mg_tools.state import state_dir

if TYPE_CHECKING:
    from mg_tools.bulk.redis_journal import RedisJournal
    from mg_tools.redis_state import Redis
    from mg_tools.settings import Settings

__all__ = ["JOURNAL_FILE", "Unknown", "job_answer", "journal_path", "open_journal", "run_job", "send_batch"]

TOOL = "send_batch"
JOURNAL_FILE = "jobs.sqlite"
#: What to do with batches whose outcome is unknown: list them, send them again, or count them as sent.
Unknown = Literal["report", "resend", "skip"]
#: Waits for a rate limit on one batch (beyond the client's own retries) before the job stops.
MAX_RATE_WAITS = 20
#: The longest wait for one rate limit, whatever Retry-After says.
MAX_RATE_WAIT = 60.0
DONE = frozenset({"sent", "skipped"})
Call = Callable[[str, dict[str, Any]], Awaitable[Any]]
Sleep = Callable[[float], Awaitable[None]]
AnyJournal: TypeAlias = "Journal | RedisJournal"


async def run_job(
    call: Call,
    journal: AnyJournal,
    *,
    domain: str,
    message: dict[str, Any],
    recipients: Sequence[Recipient],
    job: str | None = None,
    unknown: Unknown = "report",
    size: int | None = None,
    sleep: Sleep = asyncio.sleep,
) -> dict[str, Any]:
    """Send ``message`` from ``domain`` to ``recipients`` in batches, as the job ``job`` (a new job when
    None or not in the journal; resumed otherwise) and return the job's answer (:func:`job_answer`)."""
    job_id = job or f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
    try:
        with journal.worker(job_id):
            return await _run(call, journal, job_id, domain, message, recipients, unknown, size, sleep)
    except JobBusy:
        problem = f"job {job_id} is being sent by another process right now; see `mg-tools batch status {job_id}`"
        raise InvalidArguments(TOOL, [("job", problem + " and call again once it has stopped")]) from None


async def _run(
    call: Call,
    journal: AnyJournal,
    job_id: str,
    domain: str,
    message: dict[str, Any],
    recipients: Sequence[Recipient],
    unknown: Unknown,
    size: int | None,
    sleep: Sleep,
) -> dict[str, Any]:
    _opened(journal, domain, message, recipients, job_id, size)
    journal.set_status(job_id, "running")
    todo = journal.batches(job_id)
    try:
        for batch in todo:
            if batch.status in DONE or (batch.status == "unknown" and unknown == "report"):
                continue
            if batch.status == "unknown" and unknown == "skip":
                journal.mark(job_id, batch.index, "skipped", reason=batch.reason)
                continue
            chunk = recipients[batch.start : batch.stop]
            go_on = await _send(call, journal, job_id, batch, _arguments(domain, message, chunk), sleep)
            done = sum(b.status in DONE for b in journal.batches(job_id))
            await progress.report(done, len(todo), f"batch {batch.index + 1} of {len(todo)}")
            if not go_on:
                break
    except (StateUnavailable, JobBusy):
        raise  # the journal is out of reach, or the job is another worker's now: nothing more to write
    except BaseException:
        _settle(journal, job_id)
        raise
    return _settle(journal, job_id)


def _settle(journal: AnyJournal, job_id: str) -> dict[str, Any]:
    """The job's answer, its status recorded."""
    answer = job_answer(journal, job_id)
    journal.set_status(job_id, answer["status"])
    return answer


def _opened(
    journal: AnyJournal,
    domain: str,
    message: dict[str, Any],
    recipients: Sequence[Recipient],
    job_id: str,
    size: int | None,
) -> None:
    """Open the job ``job_id``: resumed (its interrupted batches now unknown) when the journal has it
    for this very message and these recipients, else created."""
    message_digest = digest({"domain": domain, **message})
    recipients_digest = digest([[r.address, r.variables] for r in recipients])
    record = journal.job(job_id)
    if record is None:
        record = JobRecord(job_id, now(), domain, message_digest, recipients_digest, len(recipients), "new")
        journal.create(record, batches(recipients, size or BATCH_SIZE))
        return
    changed = [
        what
        for what, same in (
            ("message", record.message_digest == message_digest),
            ("recipients", record.recipients_digest == recipients_digest),
        )
        if not same
    ]
    if changed:
        raise InvalidArguments(
            TOOL,
            [
                (
                    "job",
                    f"job {record.id} was started with a different {' and '.join(changed)}: resume it with the "
                    "same ones, or start a new job",
                )
            ],
        )
    journal.interrupted(record.id)


def _arguments(domain: str, message: dict[str, Any], chunk: Sequence[Recipient]) -> dict[str, Any]:
    # recipient-variables for every address makes Mailgun send each recipient its own copy.
    return {
        "domain": domain,
        **message,
        "to": [r.address for r in chunk],
        "recipient_variables": {r.address: r.variables for r in chunk},
    }


async def _send(call: Call, journal: AnyJournal, job_id: str, batch: Batch, args: dict[str, Any], sleep: Sleep) -> bool:
    """Send one batch and journal its outcome; whether the job should go on with the next batch."""
    for _ in range(MAX_RATE_WAITS + 1):
        journal.mark(job_id, batch.index, "sending")
        try:
            data = await call("send_message", args)
        except RateLimited as exc:
            # A 429 is refused before anything is accepted: waiting and sending again is safe.
            journal.mark(job_id, batch.index, "pending", reason=f"rate limited: {exc.message}")
            await sleep(min(exc.retry_after if exc.retry_after is not None else 1.0, MAX_RATE_WAIT))
            continue
        except (PolicyDenied, ConfirmationRequired, StateUnavailable, InvalidArguments) as exc:
            journal.mark(job_id, batch.index, "refused", reason=exc.message)
            return False
        except TransportError as exc:
            journal.mark(job_id, batch.index, "unknown" if exc.maybe_sent else "failed", reason=exc.message)
            return exc.maybe_sent
        except MailgunError as exc:
            # A 4xx would come again for every batch; after a 5xx the next batch may well go.
            journal.mark(job_id, batch.index, "failed", reason=exc.message)
            return (exc.status or 0) >= 500
        except MgToolsError as exc:
            journal.mark(job_id, batch.index, "failed", reason=exc.message)
            return False
        message_id = data.get("id") if isinstance(data, dict) else None
        journal.mark(job_id, batch.index, "sent", message_id=message_id)
        return True
    journal.mark(job_id, batch.index, "refused", reason="still rate limited after waiting; nothing was sent")
    return False


def job_answer(journal: AnyJournal, job_id: str) -> dict[str, Any]:
    """What a job has done: counts, the batches that need attention, and how to go on."""
    record = journal.job(job_id)
    assert record is not None
    rows = journal.batches(job_id)
    by_status: dict[str, list[Batch]] = {}
    for batch in rows:
        by_status.setdefault(batch.status, []).append(batch)
    left = [b for b in rows if b.status not in DONE]
    answer: dict[str, Any] = {
        "job": job_id,
        "status": "done" if not left else "incomplete",
        "recipients": record.recipients,
        "batches": len(rows),
        "batches_sent": len(by_status.get("sent", [])),
        "recipients_sent": sum(b.stop - b.start for b in by_status.get("sent", [])),
    }
    for status in ("unknown", "failed", "refused", "skipped"):
        if by_status.get(status):
            answer[status] = [b.summary() for b in by_status[status]]
    pending = len(by_status.get("pending", [])) + len(by_status.get("sending", []))
    if pending:
        answer["pending"] = pending
    hint = _next_step(job_id, answer)
    if hint:
        answer["next"] = hint
    return answer


def _next_step(job_id: str, answer: dict[str, Any]) -> str:
    steps = []
    if any(k in answer for k in ("failed", "refused", "pending")):
        steps.append(f"call again with job={job_id!r} and the same message and recipients to send the rest")
    if "unknown" in answer:
        steps.append(
            "the unknown batches may have been delivered: check their recipients' events, then call again "
            f"with job={job_id!r} and unknown='skip' (they went) or unknown='resend'"
        )
    return "; ".join(steps)


def journal_path(state: Path) -> Path:
    """The journal file in the state directory ``state``."""
    return state / JOURNAL_FILE


def open_journal(settings: Settings, *, redis: Redis | None = None, lease: float | None = None) -> AnyJournal:
    """The journal of ``settings``: in Redis when ``MG_TOOLS_REDIS_URL`` is set (through ``redis`` when
    given, else a connection of its own), else in the state directory. ``lease``: how long a killed
    worker holds its job in Redis (default ``MG_TOOLS_JOB_LEASE``, else
    :data:`~mg_tools.bulk.redis_journal.DEFAULT_LEASE`)."""
    url = settings.secret("redis_url")
    if not url:
        return Journal(journal_path(state_dir(settings)))
    from mg_tools.bulk.redis_journal import DEFAULT_LEASE, RedisJournal
    from mg_tools.redis_state import Redis

    lease = settings.job_lease or lease or DEFAULT_LEASE
    if redis is not None:
        return RedisJournal(redis, lease=lease)
    return RedisJournal(Redis(url), lease=lease, owned=True)


async def send_batch(
    call: Call,
    *,
    domain: str,
    message: dict[str, Any],
    recipients: Sequence[Any] | None,
    recipients_file: str | None,
    job: str | None,
    unknown: Unknown,
) -> dict[str, Any]:
    """The ``send_batch`` tool: the recipients read (a file only under the composite's file roots), then
    the job run on the journal the composite opens (``call.open_journal``)."""
    if recipients_file is not None:
        data = read_local(TOOL, "recipients_file", recipients_file, getattr(call, "file_roots", ()))
        loaded = _recipients("recipients_file", lambda: parse_recipients(data, recipients_file))
    else:
        loaded = _recipients("recipients", lambda: recipients_of(recipients or []))
    opener = getattr(call, "open_journal", None)
    if opener is None:
        raise ConfigurationError(f"{TOOL} keeps a journal of its jobs: run it through a Toolkit, which opens one")
    journal = opener()
    try:
        return await run_job(call, journal, domain=domain, message=message, recipients=loaded, job=job, unknown=unknown)
    finally:
        journal.close()


def _recipients(where: str, read: Callable[[], list[Recipient]]) -> list[Recipient]:
    try:
        return read()
    except BadRecipients as exc:
        raise InvalidArguments(TOOL, [(where, str(exc))]) from None
