"""``mg-tools batch send`` and ``mg-tools batch status``: a bulk send from the command line, its progress
on the terminal (a bar when stderr is a terminal, JSON lines otherwise), and the journal's jobs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mg_tools import errors, progress
from mg_tools.bulk.job import job_answer, open_journal

__all__ = ["exit_code", "send", "status"]

#: The exit code of an incomplete job, by what stopped it (the worst first), as EXIT_CODES has them.
_INCOMPLETE = (("refused", 3), ("failed", 4), ("unknown", 5), ("pending", 4))


def send(toolkit: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run ``send_batch`` with ``arguments`` on ``toolkit``, showing its progress on stderr."""
    with _progress_shown():
        return toolkit.run(toolkit.execute("send_batch", arguments)).data


def exit_code(answer: dict[str, Any]) -> int:
    """0 for a finished job, else the code of what stopped it."""
    if answer.get("status") == "done":
        return 0
    return next((code for key, code in _INCOMPLETE if key in answer), 1)


def status(settings: Any, job: str | None) -> dict[str, Any] | list[dict[str, Any]]:
    """Every job in the journal (newest first), or one job's answer with all its batches."""
    journal = open_journal(settings)
    try:
        if job is None:
            return [
                {"job": j.id, "created": j.created, "domain": j.domain, "recipients": j.recipients, "status": j.status}
                for j in journal.jobs()
            ]
        if journal.job(job) is None:
            raise errors.InvalidArguments("batch status", [("job", f"no job {job!r} in {journal.where}")])
        return {**job_answer(journal, job), "each": [{**b.summary(), "status": b.status} for b in journal.batches(job)]}
    finally:
        journal.close()


@contextmanager
def _progress_shown() -> Iterator[None]:
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="batch", file=sys.stderr)

        async def update(done: float, total: float | None, message: str | None) -> None:
            bar.total = total
            bar.n = int(done)
            bar.refresh()

        with progress.reporting(update):
            try:
                yield
            finally:
                bar.close()
        return

    async def log(done: float, total: float | None, message: str | None) -> None:
        sys.stderr.write(json.dumps({"event": "batch.progress", "done": done, "total": total}) + "\n")
        sys.stderr.flush()

    with progress.reporting(log):
        yield
