"""Bulk sends: any number of recipients sent in batches of at most 1000, as a job that can be resumed."""

from mg_tools.bulk.job import run_job
from mg_tools.bulk.journal import Journal
from mg_tools.bulk.recipients import BadRecipients, Recipient, parse_recipients

__all__ = ["BadRecipients", "Journal", "Recipient", "parse_recipients", "run_job"]
