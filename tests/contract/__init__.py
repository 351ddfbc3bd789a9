"""Mailgun's response contract: compiled from the spec (``compile.py``) and checked against answers."""
