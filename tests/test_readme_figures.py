"""The README's figures are the last benchmark results, rendered, never typed by hand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import readme_figures  # noqa: E402


def test_the_readme_table_is_the_rendering_of_the_results() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_figures.rewrite(readme, readme_figures.render()) == readme


def test_a_changed_result_changes_the_table(tmp_path: Path) -> None:
    source = ROOT / "benchmarks" / "results" / "replan.json"
    data = json.loads(source.read_text(encoding="utf-8"))
    data["broken_median"] = 12345
    (tmp_path / "replan.json").write_text(json.dumps(data), encoding="utf-8")
    table = readme_figures.render(tmp_path)
    assert "| 12345, 0 unserved" in table
    assert "Not in the current results:" in table  # the other benchmarks' files are absent
