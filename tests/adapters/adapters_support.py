"""What the adapter tests share besides fixtures."""

from __future__ import annotations

import json

#: The domain every sandbox starts with.
DOMAIN = "mg.example.com"


def audit_records(trail) -> list[dict]:
    return [json.loads(line) for line in trail.read_text().splitlines()]
