"""Errors a caller can fix: each names the field and (a short prefix of) the bad value."""

from __future__ import annotations

import math
from typing import Any

from geo.i18n import translate

VALUE_PREFIX_CHARS = 60
"""A refusal echoes at most this much of a bad value: enough to recognise it, never a
megabyte sent back to its sender or into a log."""


def brief(value: Any) -> Any:
    """A short, JSON-safe stand-in for ``value`` to echo in an error.

    Short text and finite numbers stay as they are; a long text becomes its first
    :data:`VALUE_PREFIX_CHARS` characters and ``…``; anything else (a list, an object, a
    non-finite number, a very large integer) becomes its ``repr`` cut the same way. Lone
    surrogates are replaced, so the answer always encodes as UTF-8.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) < 10**15:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    text = value if isinstance(value, str) else _short_repr(value)
    if len(text) > VALUE_PREFIX_CHARS:
        text = text[:VALUE_PREFIX_CHARS] + "…"
    return text.encode("utf-8", "replace").decode("utf-8")


def _short_repr(value: Any) -> str:
    """``repr`` of a value without building the whole text of a huge or deep one."""
    if isinstance(value, int):  # repr of a 10**5-digit integer is slow: say its size
        return (
            f"<integer of {value.bit_length()} bits>" if value.bit_length() > 200 else repr(value)
        )
    if isinstance(value, dict):
        keys = list(value)[:4]
        return (
            "{"
            + ", ".join(f"{_short_repr(k)}: …" for k in keys)
            + (", …}" if len(value) > 4 else "}")
        )
    if isinstance(value, list | tuple):
        head = ", ".join(_short_repr(v) for v in list(value[:4])) if _shallow(value) else "…"
        return "[" + head + (", …]" if len(value) > 4 else "]")
    text = repr(value)
    return text[: VALUE_PREFIX_CHARS + 1]


def _shallow(items: list[Any] | tuple[Any, ...]) -> bool:
    return all(not isinstance(v, list | tuple | dict) for v in items[:4])


class InputError(ValueError):
    """A bad input value.

    Parameters
    ----------
    field
        Name of the argument or field that was wrong (``"lon"``, ``"job.location"``).
    value
        The value received; kept as :func:`brief` of it.
    reason
        What is wrong with it and, where useful, what is accepted: an English text of the
        message catalogue (:mod:`geo.i18n`, extracted as this argument) with ``{name}``
        placeholders, never a text built beforehand.
    **params
        The placeholders' values.
    """

    def __init__(self, field: str, value: Any, reason: str, /, **params: Any) -> None:
        self.field = field
        self.value = brief(value)
        self.reason_id = reason
        self.params = params
        self.reason = translate(reason, "en", **params) if params else reason
        super().__init__(f"{field}={self.value!r}: {self.reason}")

    def message(self, lang: str) -> str:
        """The reason in ``lang`` (``zh`` or ``en``)."""
        return translate(self.reason_id, lang, **self.params)
