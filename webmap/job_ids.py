"""Job numbers of the dispatch room: ``J00001``, ``J00002``... never reused, also after a
restart (every id seen, from the fleet file or the store, moves the counter past it)."""

from __future__ import annotations

import re

_JOB_ID = re.compile(r"^J(\d+)$")


class JobNumbers:
    def __init__(self) -> None:
        self._next = 1

    def peek(self) -> str:
        """The id the next call will get."""
        return f"J{self._next:05d}"

    def seen(self, job_id: str) -> None:
        match = _JOB_ID.match(job_id)
        if match:
            self._next = max(self._next, int(match.group(1)) + 1)
