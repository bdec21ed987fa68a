"""Load the project's rule file (``config/rules.toml``).

One TOML file holds every business rule and speed figure. ``geo`` reads its ``network``,
``speeds`` and ``congestion`` sections; ``optimizer`` reads the rest. The path can be
changed with the ``RESCUE_RULES`` environment variable.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RULES_PATH = PROJECT_ROOT / "config" / "rules.toml"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


def rules_path() -> Path:
    """The rule file in force: ``$RESCUE_RULES`` or ``config/rules.toml``."""
    return Path(os.environ.get("RESCUE_RULES", DEFAULT_RULES_PATH))


def data_dir() -> Path:
    """The data folder in force: ``$RESCUE_DATA`` or ``data/`` of the project."""
    return Path(os.environ.get("RESCUE_DATA", DEFAULT_DATA_DIR))


@cache
def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        return tomllib.load(file)


def load_rules(path: Path | None = None) -> dict[str, Any]:
    """The parsed rule file (cached per path; treat the result as read-only)."""
    return _load(path or rules_path())
