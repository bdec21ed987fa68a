"""The message catalogue: every text a dispatcher, crew or customer reads, Chinese first.

Texts are written in the code in English, marked for extraction (:func:`N_`, or the reason
of an :class:`~geo.errors.InputError`), with ``{name}`` placeholders. Babel extracts them
into ``i18n/messages.pot``; ``i18n/zh_CN/LC_MESSAGES/messages.po`` holds the Chinese and
``i18n/en/LC_MESSAGES/messages.po`` the English (where it differs from the source text).
The Python side (Socket.IO errors, the command line) and the page (``/i18n/<lang>.json``)
read the same files.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from geo.config import PROJECT_ROOT

CATALOGUE_DIR = PROJECT_ROOT / "i18n"
LANGUAGES = ("zh", "en")
"""The languages of the product; the first is the default (the dispatchers are Chinese)."""
DEFAULT_LANGUAGE = LANGUAGES[0]
LOCALE_OF = {"zh": "zh_CN", "en": "en"}
LANGUAGE_ENV = "RESCUE_LANG"


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name for a marker)
    """Mark ``msgid`` for extraction into the catalogue; translated where it is shown."""
    return msgid


def language(value: Any, default: str = DEFAULT_LANGUAGE) -> str:
    """The product language named by ``value`` (``zh``, ``zh-CN``, ``zh_CN``, ``en-GB``...).

    Anything else (unknown, empty, not text) gives ``default``.
    """
    if isinstance(value, str):
        head = value.strip().replace("_", "-").split("-")[0].lower()
        if head in LANGUAGES:
            return head
    return default


def env_language() -> str:
    """The language chosen by ``$RESCUE_LANG`` (the command line's default), else Chinese."""
    return language(os.environ.get(LANGUAGE_ENV))


def po_path(lang: str) -> Path:
    """The catalogue file of a product language."""
    return CATALOGUE_DIR / LOCALE_OF[lang] / "LC_MESSAGES" / "messages.po"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """``msgid -> text`` of one language: translated entries only (fuzzy ones are not)."""
    with po_path(lang).open("rb") as f:
        parsed = read_po(f, locale=LOCALE_OF[lang])
    return {
        str(m.id): str(m.string)
        for m in parsed
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
        if not m.fuzzy
    }


class Text(str):
    """A placeholder's value that is itself a text of the catalogue (a state's or a truck
    kind's label): :func:`translate` shows it in the language of the whole message. It is
    a ``str`` (its English), so it goes into JSON ``params`` as it is."""

    __slots__ = ()


class TextList(tuple[str, ...]):
    """A placeholder's value that is a list of texts (:class:`Text` or plain): shown joined
    with the language's list separator (``, `` / ``、``), each item in that language. It
    goes into JSON ``params`` as a list."""

    __slots__ = ()


def _shown(value: Any, lang: str) -> Any:
    if isinstance(value, Text):
        return translate(value, lang)
    if isinstance(value, TextList):
        return translate(LIST_SEPARATOR, lang).join(_shown(item, lang) for item in value)
    return value


LIST_SEPARATOR = N_(", ")


def translate(msgid: str, lang: str = DEFAULT_LANGUAGE, /, **params: Any) -> str:
    """``msgid`` in ``lang`` with its ``{name}`` placeholders filled from ``params``
    (a :class:`Text` or :class:`TextList` value in ``lang`` too).

    A text missing from the catalogue falls back to the source (English) text; the
    catalogue test makes that a failure for every text the code marks.
    """
    lang = language(lang)
    text = catalogue(lang).get(msgid, msgid)
    if not params:
        return text
    return text.format(**{name: _shown(value, lang) for name, value in params.items()})


def both(msgid: str, /, **params: Any) -> tuple[str, str]:
    """``(Chinese, English)`` of one text: for payloads every dispatcher's page shows."""
    return translate(msgid, "zh", **params), translate(msgid, "en", **params)


def translate_in(lang: str, msgid: str, /, **params: Any) -> str:
    """:func:`translate` with the language first: ``functools.partial(translate_in, lang)``
    is the ``_`` of a page rendered in ``lang``."""
    return translate(msgid, lang, **params)
