"""Pickup-and-delivery problems with time windows (PDPTW) made from VRPTW instances.

Following Li & Lim (2001, "A metaheuristic for the pickup and delivery problem with time
windows"), a PDPTW instance is generated from a VRPTW instance (here a Solomon instance
read by :func:`optimizer.vrp.solomon.read_solomon`) and a feasible solution of it, its
routes: within each route the customers are paired at random, and in each pair the
customer visited earlier on the route becomes the pickup, the later one the delivery of
one shipment whose amount is the pickup customer's demand. Locations, time windows and
service times stay those of the customers, and the fleet stays the instance's.

The source routes remain a feasible solution of the generated instance (the tests check
it with :mod:`optimizer.vrp.check`): every delivery follows its pickup on the same route,
the schedule is unchanged, and the load never exceeds the route's total VRPTW demand,
which fits the capacity.

Exactly what :func:`pdptw_from_routes` does, for reproducibility:

1. one ``numpy.random.default_rng(seed)`` for the whole instance;
2. routes in the order given; for each, ``rng.permutation`` of its customers; customers
   2k and 2k+1 of the permutation form shipment k of the route;
3. a route with an odd number of customers keeps the last customer of its permutation as
   a plain job, unchanged (a ``delivery`` of its demand from the depot), so every
   customer is in exactly one shipment or left as one job;
4. a shipment's pickup keeps the pickup customer's number as its id, its delivery the
   delivery customer's number (VROOM's ids are unique per task kind).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optimizer.vrp.problem import ProblemError


def pdptw_from_routes(
    vrptw: Mapping[str, Any], routes: Sequence[Sequence[int]], seed: int
) -> dict[str, Any]:
    """The PDPTW instance of ``vrptw`` paired along ``routes`` (see the module docstring).

    Parameters
    ----------
    vrptw
        A VROOM-format VRPTW problem whose jobs each carry a one-dimensional ``delivery``
        (a Solomon instance as read by :func:`optimizer.vrp.solomon.read_solomon`).
    routes
        A solution of it: the job ids of each route in visiting order, every job in exactly
        one route.
    seed
        Seed of the random pairing.

    Returns
    -------
    dict
        A VROOM-format problem with ``shipments`` (and ``jobs`` for the customers left
        unpaired); ``vrptw`` is not modified.

    Raises
    ------
    ProblemError
        If ``routes`` does not list every job of ``vrptw`` exactly once.
    """
    jobs = {job["id"]: job for job in vrptw.get("jobs") or []}
    visited = [job_id for route in routes for job_id in route]
    if sorted(visited) != sorted(jobs) or len(set(visited)) != len(visited):
        raise ProblemError(f"routes must list every job exactly once, got {visited!r:.40}")
    rng = np.random.default_rng(seed)
    shipments: list[dict[str, Any]] = []
    unpaired: list[dict[str, Any]] = []
    for route in routes:
        position = {job_id: rank for rank, job_id in enumerate(route)}
        order = [route[i] for i in rng.permutation(len(route))]
        for first, second in zip(order[0::2], order[1::2], strict=False):
            pickup, delivery = sorted((first, second), key=position.__getitem__)
            shipments.append(_shipment(jobs[pickup], jobs[delivery]))
        if len(order) % 2:
            unpaired.append(copy.deepcopy(jobs[order[-1]]))
    problem = {key: copy.deepcopy(value) for key, value in vrptw.items() if key != "jobs"}
    problem["jobs"] = sorted(unpaired, key=lambda job: job["id"])
    problem["shipments"] = shipments
    return problem


def _shipment(pickup: Mapping[str, Any], delivery: Mapping[str, Any]) -> dict[str, Any]:
    """One shipment from ``pickup`` to ``delivery``, carrying the pickup's demand."""

    def half(job: Mapping[str, Any]) -> dict[str, Any]:
        keys = ("id", "location_index", "service", "time_windows")
        return {key: copy.deepcopy(job[key]) for key in keys if key in job}

    return {
        "amount": list(pickup.get("delivery") or [0]),
        "pickup": half(pickup),
        "delivery": half(delivery),
    }


def answer_from_routes(
    problem: Mapping[str, Any], routes: Sequence[Sequence[int]]
) -> dict[str, Any]:
    """A VROOM-format answer serving ``problem`` (made by :func:`pdptw_from_routes`) along
    the source ``routes``: route k on the k-th vehicle, each customer as the task it became
    (pickup, delivery or job). Times and costs are left for :func:`optimizer.vrp.check.check`
    to recompute.

    Raises
    ------
    ProblemError
        If there are more routes than vehicles, or a customer is no task of ``problem``.
    """
    vehicles = problem.get("vehicles") or []
    if len(routes) > len(vehicles):
        raise ProblemError(f"more routes ({len(routes)}) than vehicles")
    kind_of = {job["id"]: "job" for job in problem.get("jobs") or []}
    for shipment in problem.get("shipments") or []:
        kind_of[shipment["pickup"]["id"]] = "pickup"
        kind_of[shipment["delivery"]["id"]] = "delivery"
    answer_routes = []
    for route, vehicle in zip(routes, vehicles, strict=False):
        missing = [customer for customer in route if customer not in kind_of]
        if missing:
            raise ProblemError(f"routes must list every job exactly once, missing {missing!r:.40}")
        steps: list[dict[str, Any]] = [{"type": "start"}]
        steps += [{"type": kind_of[customer], "id": customer} for customer in route]
        steps.append({"type": "end"})
        answer_routes.append({"vehicle": vehicle["id"], "steps": steps})
    return {"code": 0, "unassigned": [], "routes": answer_routes}


def routes_of(answer: Mapping[str, Any]) -> list[list[int]]:
    """The task ids of each route of a VROOM-format ``answer`` to a VRPTW, in order."""
    return [
        [step["id"] for step in route["steps"] if step.get("type") == "job"]
        for route in answer.get("routes") or []
    ]
