"""The message catalogue (geo.i18n): up to date with the code, every text in Chinese with
the same placeholders, every refusal a catalogue text, and both languages where shown."""

from __future__ import annotations

import ast
import json
import os
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

from geo.config import load_rules
from geo.errors import InputError
from geo.i18n import CATALOGUE_DIR, Text, TextList, both, catalogue, translate
from optimizer.dispatch.labels import CODES, GROUPS, bilingual_labels, page_labels
from optimizer.dispatch.quote import make_quote
from optimizer.dispatch.words import word

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "optimizer", "records", "webmap", "rescue")
# The keywords of `make i18n` (Makefile I18N_KEYWORDS), added to Babel's defaults as
# `pybabel extract -k` does.
KEYWORDS = {**DEFAULT_KEYWORDS, **parse_keywords(["N_", "InputError:3", "translate", "both", "t"])}
POT = CATALOGUE_DIR / "messages.pot"
ZH_PO = CATALOGUE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _catalogue_ids(path: Path) -> set[str]:
    with path.open("rb") as f:
        return {str(m.id) for m in read_po(f) if m.id}


def _extracted_ids() -> set[str]:
    with (CATALOGUE_DIR / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    ids: set[str] = set()
    for package in PACKAGES:
        for _, _, message, _, _ in extract_from_dir(
            ROOT / package, method_map, options_map, keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                ids.add(msgid)
    return ids


def test_the_template_is_up_to_date_with_the_code() -> None:
    extracted, pot = _extracted_ids(), _catalogue_ids(POT)
    assert not extracted - pot, (
        f"texts not in i18n/messages.pot: run `make i18n`: {sorted(extracted - pot)}"
    )
    assert not pot - extracted, (
        f"texts no longer in the code: run `make i18n`: {sorted(pot - extracted)}"
    )


def test_every_text_has_its_chinese_with_the_same_placeholders() -> None:
    pot = _catalogue_ids(POT)
    with ZH_PO.open("rb") as f:
        entries = {str(m.id): m for m in read_po(f) if m.id}
    missing = sorted(msgid for msgid in pot if msgid not in entries or not entries[msgid].string)
    assert not missing, f"texts without Chinese in {ZH_PO.name}: {missing}"
    fuzzy = sorted(msgid for msgid in pot if entries[msgid].fuzzy)
    assert not fuzzy, f"fuzzy (unchecked) Chinese: {fuzzy}"
    for msgid in pot:
        text = str(entries[msgid].string)
        assert _placeholders(text) == _placeholders(msgid), (msgid, text)
        # Every placeholder fills: the format specs ({km:g}) are the source text's.
        params = {name: 1 for name in _placeholders(msgid)}
        assert text.format(**params)


def _calls(name: str) -> Iterator[tuple[Path, ast.Call]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    called = node.func
                    called_name = getattr(called, "id", None) or getattr(called, "attr", None)
                    if called_name == name:
                        yield path.relative_to(ROOT), node


def test_every_refusal_is_a_catalogue_text_with_its_params() -> None:
    """Each ``InputError(field, value, reason, **params)``: the reason a literal of the
    catalogue whose placeholders are exactly the keyword params, or the pass-through of
    another error's ``reason_id`` with its ``**params``."""
    pot = _catalogue_ids(POT)
    bad = []
    for path, call in _calls("InputError"):
        where = f"{path}:{call.lineno}"
        if len(call.args) != 3:
            bad.append(f"{where}: expected (field, value, reason, **params)")
            continue
        reason = call.args[2]
        names = {k.arg for k in call.keywords if k.arg is not None}
        splat = any(k.arg is None for k in call.keywords)
        if isinstance(reason, ast.Constant) and isinstance(reason.value, str):
            if reason.value not in pot:
                bad.append(f"{where}: {reason.value!r} is not in the catalogue (make i18n)")
            if not splat and names != _placeholders(reason.value):
                bad.append(f"{where}: params {sorted(names)} for {reason.value!r}")
        elif not (isinstance(reason, ast.Attribute) and reason.attr == "reason_id" and splat):
            bad.append(f"{where}: the reason {ast.unparse(reason)!r} is not a text literal")
    assert not bad, "\n".join(bad)


def test_every_marked_text_is_in_the_catalogue() -> None:
    """N_, translate and both with a literal: extracted (not hidden from Babel's tokenizer,
    which counts the commas inside brackets as argument separators)."""
    pot = _catalogue_ids(POT)
    missing = [
        f"{path}:{call.lineno}: {call.args[0].value!r}"
        for name in ("N_", "translate", "both")
        for path, call in _calls(name)
        if call.args and isinstance(call.args[0], ast.Constant)
        if isinstance(call.args[0].value, str) and call.args[0].value not in pot
    ]
    assert not missing, "\n".join(missing)


def test_translate_fills_the_params_in_both_languages() -> None:
    msgid = "must be at most {maximum:g}"
    zh, en = both(msgid, maximum=2.5)
    assert en == "must be at most 2.5"
    assert "2.5" in zh and zh != en and zh == translate(msgid, "zh-CN", maximum=2.5)
    error = InputError("--speed", "9000", msgid, maximum=3600.0)
    assert error.reason == "must be at most 3600" == error.message("en")
    assert "3600" in error.message("zh") and error.message("zh") != error.reason
    assert (error.reason_id, error.params) == (msgid, {"maximum": 3600.0})
    # A text the catalogue does not hold (a pass-through of a foreign text) stays English.
    assert translate("no such text {n}", "zh", n=3) == "no such text 3"


def test_codes_inside_a_sentence_are_words_of_its_language() -> None:
    """A state or kind in a refusal reads as its code in English, as a word in Chinese;
    the params stay codes (JSON)."""
    allowed = TextList(word(state) for state in ("assigned", "cancelled"))
    error = InputError(
        "state",
        "fixed",
        "job {job} is {state}; allowed next states: {allowed}",
        job="J1",
        state=word("received"),
        allowed=allowed,
    )
    assert error.reason == "job J1 is received; allowed next states: assigned, cancelled"
    chinese = error.message("zh")
    assert translate("received", "zh") in chinese and "received" not in chinese
    assert translate(", ", "zh").join(translate(s, "zh") for s in allowed) in chinese
    assert json.loads(json.dumps(error.params)) == {
        "job": "J1",
        "state": "received",
        "allowed": ["assigned", "cancelled"],
    }
    assert word("not_a_code") == "not_a_code" and not isinstance(word("x"), Text)


def test_the_labels_cover_every_code_in_both_languages(business_rules: object) -> None:
    for group, codes in CODES.items():
        assert set(GROUPS[group]) == set(codes), group
    assert set(GROUPS["fault"]) == set(business_rules.fault_categories)  # type: ignore[attr-defined]
    bands = {band["name"] for band in load_rules()["congestion"]["bands"]}
    assert set(GROUPS["band"]) == bands
    pairs = bilingual_labels()
    zh, en = page_labels("zh"), page_labels("en")
    assert set(zh) == set(en) == {*GROUPS, "insurer"}
    assert (
        en["job_state"]["en_route"] == "En route" and en["kind"]["flatbed"] == "Flatbed tow truck"
    )
    for group, table in pairs.items():
        for code, (chinese, english) in table.items():
            assert zh[group][code] == chinese and en[group][code] == english
            assert chinese != english or group == "insurer", (group, code)
    assert zh["insurer"]["picc"] == "中国人民保险"
    assert all(chinese for chinese in catalogue("zh").values())


def _cli(*argv: str, lang: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "RESCUE_LANG"}
    if lang is not None:
        env["RESCUE_LANG"] = lang
    done = subprocess.run(
        [sys.executable, "-m", "rescue.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == "", done
    line, _, rest = done.stderr.partition("\n")
    assert not rest, done.stderr
    answer = json.loads(line)
    assert isinstance(answer, dict)
    return answer


def test_a_command_line_error_is_in_the_chosen_language() -> None:
    english = "point='116.4': expected LON,LAT (two numbers separated by a comma)"
    chinese = translate("expected LON,LAT (two numbers separated by a comma)", "zh")
    default = _cli("zone", "116.4", lang=None)  # Chinese unless told
    assert default["error"] == english
    assert (default["field"], default["value"]) == ("point", "116.4")
    assert chinese in str(default["message"]) and "expected" not in str(default["message"])
    assert _cli("zone", "116.4", "--lang", "en", lang="zh")["message"] == english
    assert _cli("--lang=en", "zone", "116.4", lang=None)["message"] == english
    assert _cli("zone", "116.4", lang="en")["message"] == english
    assert chinese in str(_cli("zone", "116.4", "--lang", "zh", lang="en")["message"])
    refused = _cli("zone", "116.4", "--lang", "fr", lang="en")
    assert refused["field"] == "--lang" and "zh, en" in str(refused["message"])


def test_quote_items_and_notices_come_in_both_languages(business_rules: object) -> None:
    quote = make_quote(
        member=False,
        zone="between_5th_and_6th_ring",
        on_highway=True,
        tow_m=20_000.0,
        rules=business_rules,  # type: ignore[arg-type]
        accident=True,
        insurer="picc",
    ).to_json()
    for item in quote["items"]:
        assert item["label_zh"] and item["label_zh"] != item["label"], item
    assert len(quote["notices_zh"]) == len(quote["notices"]) == 2
    assert "95518" in quote["notices_zh"][1] and "中国人民保险" in quote["notices_zh"][1]
    assert "PICC claims line 95518" in quote["notices"][1]
    assert quote["script_zh"].endswith("。") and quote["script_en"].endswith(".")
