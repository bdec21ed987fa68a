"""Why a job is cancelled (SERVICE_RULES §7 ``cancelled``): a reason from a fixed list and
the dispatcher's note, kept on the job and in its history for the statistics (§8)."""

from __future__ import annotations

from typing import Any

from geo.errors import InputError

CANCEL_REASONS = ("caller_cancelled", "duplicate", "solved_by_caller", "other")
"""The caller called it off; the call repeats another one; the caller got going on their
own; anything else (then the note says what)."""
MAX_NOTE_CHARS = 200


def check_cancel(reason: Any, note: Any) -> tuple[str, str]:
    """``(reason, note)`` of a cancellation, the note stripped, else :class:`InputError`
    naming ``reason`` or ``note``: a reason of :data:`CANCEL_REASONS`, a note of text up to
    :data:`MAX_NOTE_CHARS` characters, not blank when the reason is ``other``."""
    if not isinstance(reason, str) or reason not in CANCEL_REASONS:
        raise InputError("reason", reason, "one of {names}", names=", ".join(CANCEL_REASONS))
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise InputError("note", note, "must be text")
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(
            "note", note, "is longer than {max_chars} characters", max_chars=MAX_NOTE_CHARS
        )
    note = note.strip()
    if reason == "other" and not note:
        raise InputError("note", note, "is required when the reason is other: say why")
    return reason, note


def history_note(reason: str, note: str) -> str:
    """The job history's note of a cancellation: the reason, then the note if any."""
    return f"{reason}: {note}" if note else reason
