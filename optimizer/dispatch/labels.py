"""What the page shows for the codes of the dispatch model: fault categories, job and truck
states, truck kinds, zones, promise statuses and reasons, cancellation reasons, genders,
time-of-day bands, insurers.

The payloads carry codes (``flat_battery``, ``en_route``, ``at_risk``); the labels are
texts of the message catalogue (:mod:`geo.i18n`: English here, Chinese in
``i18n/zh_CN/LC_MESSAGES/messages.po``), except the insurers' names, which are data of the
rule file (``[insurers] name_zh``, ``name_en``). :func:`page_labels` gives the page the
labels in its language.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import get_args

from geo.i18n import LANGUAGES, N_, translate
from geo.zones import Zone
from optimizer.dispatch.assign import PromiseStatus, Reason
from optimizer.dispatch.cancel import CANCEL_REASONS
from optimizer.dispatch.intake import GENDERS
from optimizer.dispatch.model import JobState, TruckState
from optimizer.dispatch.rules import TRUCK_KINDS, Rules, load_business_rules

FAULT: Mapping[str, str] = {
    # SERVICE_RULES §3: fixed on the spot by a service vehicle (维修服务车)...
    "flat_battery": N_("Flat battery (jump start)"),
    "flat_tyre": N_("Flat tyre"),
    "out_of_fuel": N_("Out of fuel"),
    "locked_out": N_("Locked out"),
    "minor_electrical": N_("Minor electrical fault"),
    # ... or towed by a flatbed (清障车).
    "engine_failure": N_("Engine failure"),
    "gearbox_failure": N_("Gearbox failure"),
    "accident_damage": N_("Accident damage"),
    "drivetrain_failure": N_("Drivetrain failure"),
    "steering_failure": N_("Steering failure"),
    "stuck": N_("Car stuck"),
    "overturned": N_("Car overturned"),
}
JOB_STATE: Mapping[str, str] = {
    JobState.RECEIVED: N_("Received"),
    JobState.ASSIGNED: N_("Assigned"),
    JobState.EN_ROUTE: N_("En route"),
    JobState.ON_SCENE: N_("On scene"),
    JobState.FIXED: N_("Fixed"),
    JobState.TOWING: N_("Towing"),
    JobState.DELIVERED: N_("Delivered"),
    JobState.CLOSED: N_("Closed"),
    JobState.CANCELLED: N_("Cancelled"),
}
TRUCK_STATE: Mapping[str, str] = {
    TruckState.IDLE: N_("Idle"),
    TruckState.EN_ROUTE: N_("Driving to a job"),
    TruckState.ON_SCENE: N_("Working on scene"),
    TruckState.TOWING: N_("Towing a car"),
    TruckState.OFF_DUTY: N_("Off duty"),
}
KIND: Mapping[str, str] = {
    "service": N_("Service vehicle"),
    "flatbed": N_("Flatbed tow truck"),
}
ZONE: Mapping[str, str] = {
    "inside_5th_ring": N_("Inside the 5th Ring Road"),
    "between_5th_and_6th_ring": N_("Between the 5th and 6th Ring Roads"),
    "outside_6th_ring": N_("Outside the 6th Ring Road"),
}
STATUS: Mapping[str, str] = {
    "on_time": N_("On time"),
    "at_risk": N_("At risk"),
    "late": N_("Late"),
}
REASON: Mapping[str, str] = {
    "distance": N_("Far from the nearest truck"),
    "congestion": N_("Traffic congestion"),
    "all_suitable_busy": N_("Suitable trucks all busy"),
    "no_suitable_truck": N_("No suitable truck"),
    "not_dispatched": N_("Not dispatched yet"),
    "converted_to_tow": N_("Converted to a tow"),
}
CANCEL_REASON: Mapping[str, str] = {
    "caller_cancelled": N_("The caller cancelled"),
    "duplicate": N_("Duplicate call"),
    "solved_by_caller": N_("Solved by the caller"),
    "other": N_("Other"),
}
GENDER: Mapping[str, str] = {"male": N_("male"), "female": N_("female")}
BAND: Mapping[str, str] = {
    # config/rules.toml [congestion] bands
    "night": N_("Night"),
    "morning_peak": N_("Morning peak"),
    "daytime": N_("Daytime"),
    "evening_peak": N_("Evening peak"),
    "evening": N_("Evening"),
}
GROUPS: Mapping[str, Mapping[str, str]] = {
    "fault": FAULT,
    "job_state": JOB_STATE,
    "truck_state": TRUCK_STATE,
    "kind": KIND,
    "zone": ZONE,
    "status": STATUS,
    "reason": REASON,
    "cancel_reason": CANCEL_REASON,
    "gender": GENDER,
    "band": BAND,
}
"""Every group of labels of the catalogue, by the name the page config uses."""
CODES: Mapping[str, tuple[str, ...]] = {
    "job_state": tuple(JobState),
    "truck_state": tuple(TruckState),
    "kind": TRUCK_KINDS,
    "zone": get_args(Zone),
    "status": get_args(PromiseStatus),
    "reason": get_args(Reason),
    "cancel_reason": CANCEL_REASONS,
    "gender": GENDERS,
}
"""The codes the model defines, per group (the fault categories and the time-of-day bands
are the rule file's)."""


@cache
def _rules_in_force() -> Rules:
    return load_business_rules()


def bilingual_labels(rules: Rules | None = None) -> dict[str, dict[str, tuple[str, str]]]:
    """``{group: {code: (Chinese, English)}}``: every group of :data:`GROUPS` and
    ``insurer`` (the rule file's names). A fault category of the rule file without a label
    here shows its code."""
    rules = rules or _rules_in_force()
    out = {
        group: {str(code): (translate(m, "zh"), translate(m, "en")) for code, m in table.items()}
        for group, table in GROUPS.items()
    }
    for code in rules.fault_categories:
        out["fault"].setdefault(code, (code, code))
    out["insurer"] = {key: (i.name_zh, i.name_en) for key, i in rules.insurers.items()}
    return out


def page_labels(lang: str, rules: Rules | None = None) -> dict[str, dict[str, str]]:
    """``{group: {code: label}}`` in ``lang`` (``zh`` or ``en``) for the page config:
    ``fault``, ``job_state``, ``truck_state``, ``kind``, ``zone``, ``status``, ``reason``,
    ``cancel_reason``, ``gender``, ``band``, ``insurer``. ``rules``: the rules in force
    unless given (read once)."""
    index = LANGUAGES.index(lang) if lang in LANGUAGES else 0
    return {
        group: {code: pair[index] for code, pair in table.items()}
        for group, table in bilingual_labels(rules).items()
    }
