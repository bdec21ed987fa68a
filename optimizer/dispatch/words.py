"""Codes of the dispatch model as words inside a sentence of the catalogue.

A refusal names a job's state, a truck's kind or a promise status by its code ("job J7 is
en_route", "is a service truck"); in Chinese the code reads badly, so the code's value of a
placeholder is a :class:`geo.i18n.Text` whose English is the code itself and whose Chinese
is the word (已派车, 维修服务车). The page's labels of the codes are
:mod:`optimizer.dispatch.labels`.
"""

from __future__ import annotations

from geo.i18n import N_, Text

WORDS = frozenset(
    {
        # job states (SERVICE_RULES §7)
        N_("received"),
        N_("assigned"),
        N_("en_route"),
        N_("on_scene"),
        N_("fixed"),
        N_("towing"),
        N_("delivered"),
        N_("closed"),
        N_("cancelled"),
        # truck states that are not job states
        N_("idle"),
        N_("off_duty"),
        # truck kinds
        N_("service"),
        N_("flatbed"),
        # promise statuses
        N_("on_time"),
        N_("at_risk"),
        N_("late"),
    }
)


def word(code: object) -> str:
    """``code`` as a placeholder's value: translated with its sentence if it is one of
    :data:`WORDS`, else as it is (text)."""
    text = str(code)
    return Text(text) if text in WORDS else text
