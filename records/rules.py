"""The ``[records]`` rules of config/rules.toml as typed values (SERVICE_RULES §5-§8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geo.config import load_rules


@dataclass(frozen=True)
class RecordRules:
    followup_due_s: float
    payment_methods: tuple[str, ...]
    claim_documents: tuple[str, ...]
    claim_paths: tuple[str, ...]
    membership_days: int
    membership_yuan: float
    followup_outcomes: tuple[str, ...]
    """SR §8: the outcomes of a follow-up call; ``complaint`` needs the complaint's text."""

    @classmethod
    def from_toml(cls, raw: Mapping[str, Any]) -> RecordRules:
        section = raw["records"]
        return cls(
            followup_due_s=float(section["followup_due_h"]) * 3600.0,
            payment_methods=tuple(section["payment_methods"]),
            claim_documents=tuple(section["claim_documents"]),
            claim_paths=tuple(section["claim_paths"]),
            membership_days=int(section["membership_days"]),
            membership_yuan=float(raw["fees"]["membership_yuan"]),
            followup_outcomes=tuple(section["followup_outcomes"]),
        )


def load_record_rules(raw: Mapping[str, Any] | None = None) -> RecordRules:
    """The records' rules in force (``config/rules.toml`` or ``$RESCUE_RULES``)."""
    return RecordRules.from_toml(raw or load_rules())
