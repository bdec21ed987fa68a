"""Errors a caller can fix: each names the field and the bad value."""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """A bad input value.

    Parameters
    ----------
    field
        Name of the argument or field that was wrong (``"lon"``, ``"job.location"``).
    value
        The value received.
    reason
        What is wrong with it and, where useful, what is accepted.
    """

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")
