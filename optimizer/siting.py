"""Where to wait: the maximal covering location problem (Church & ReVelle 1974), solved
greedily and with OR-Tools CP-SAT, optionally with backup coverage (Hogan & ReVelle 1986).

A :class:`CoverProblem` is integer demand at points and, for each candidate site, the
points it covers. Choose ``k`` sites:

- variables ``x_j`` (site ``j`` chosen) and ``y_i`` (point ``i`` covered); with backup also
  ``b_i`` (point ``i`` covered twice);
- constraints ``sum_j x_j = k``; ``y_i <= sum_{j covers i} x_j`` (``y_i + b_i <= ...`` with
  backup, and ``b_i <= y_i``);
- objective: maximise ``sum_i d_i y_i``; with backup ``W sum_i d_i y_i + sum_i d_i b_i``
  where ``W = sum_i d_i + 1``, so no backup ever buys a loss of first coverage (the
  lexicographic order of Hogan & ReVelle).

The greedy answer (best marginal demand, ties by backup gain then by index) is given to
CP-SAT as a hint and kept if CP-SAT ends with worse, so CP-SAT is never worse than greedy;
CP-SAT's best bound proves how far from optimal the answer can be (:attr:`Siting.gap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model
from scipy.sparse import csc_array

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class CoverProblem:
    """Integer ``demand`` per point; ``covers[j]``: the points candidate ``j`` covers."""

    demand: IntArray
    covers: tuple[IntArray, ...]

    def __post_init__(self) -> None:
        if (self.demand < 0).any():
            raise ValueError("demand must be non-negative")
        for j, points in enumerate(self.covers):
            if len(points) and not (points.min() >= 0 and points.max() < len(self.demand)):
                raise ValueError(f"covers[{j}] names a point outside 0..{len(self.demand) - 1}")

    def counts(self, covers: Sequence[IntArray]) -> IntArray:
        """How many of ``covers`` (point sets of chosen sites) cover each point."""
        hits = np.zeros(len(self.demand), dtype=np.int64)
        for points in covers:
            hits[points] += 1
        return hits

    def evaluate(self, covers: Sequence[IntArray]) -> tuple[int, int]:
        """Demand covered at least once, and at least twice, by sites covering ``covers``."""
        hits = self.counts(covers)
        return int(self.demand[hits >= 1].sum()), int(self.demand[hits >= 2].sum())

    def matrix(self) -> csc_array:
        """Points x candidates incidence (1 where the candidate covers the point)."""
        rows = np.concatenate([*self.covers, np.zeros(0, dtype=np.int64)])
        cols = np.repeat(np.arange(len(self.covers)), [len(c) for c in self.covers])
        data = np.ones(len(rows), dtype=np.int64)
        return csc_array((data, (rows, cols)), shape=(len(self.demand), len(self.covers)))


@dataclass(frozen=True)
class Siting:
    sites: tuple[int, ...]
    """Indices of the chosen candidates, ascending."""
    covered: int
    """Demand covered at least once."""
    backup: int
    """Demand covered at least twice."""
    bound: int
    """Proven upper bound on ``covered`` (= ``covered`` when optimal)."""
    status: str
    """``OPTIMAL``, ``FEASIBLE`` (time limit reached) or ``GREEDY`` (no proof sought)."""

    @property
    def gap(self) -> float:
        """``(bound - covered) / bound``: how much better any siting could be, at most."""
        return (self.bound - self.covered) / self.bound if self.bound else 0.0


def _check_k(problem: CoverProblem, k: int) -> None:
    if not 0 < k <= len(problem.covers):
        raise ValueError(f"k={k}: must be between 1 and {len(problem.covers)} (the candidates)")


def greedy_siting(problem: CoverProblem, k: int, *, backup: bool = False) -> Siting:
    """Add, ``k`` times, the site covering the most demand not yet covered (with
    ``backup``, ties go to the most demand covered a second time). Its bound is the demand
    any site covers (no proof)."""
    _check_k(problem, k)
    incidence = problem.matrix()
    demand = problem.demand
    hits = np.zeros(len(demand), dtype=np.int64)
    chosen: list[int] = []
    total_scale = int(demand.sum()) + 1
    for _ in range(k):
        gain = incidence.T @ np.where(hits == 0, demand, 0)
        if backup:
            gain = gain * total_scale + incidence.T @ np.where(hits == 1, demand, 0)
        gain[chosen] = -1
        best = int(np.argmax(gain))
        chosen.append(best)
        hits[problem.covers[best]] += 1
    covered, twice = problem.evaluate([problem.covers[j] for j in chosen])
    reachable = int(demand[incidence.sum(axis=1) > 0].sum())
    return Siting(tuple(sorted(chosen)), covered, twice, reachable, "GREEDY")


def solve_siting(
    problem: CoverProblem,
    k: int,
    *,
    backup: bool = False,
    time_limit_s: float,
    workers: int = 2,
) -> Siting:
    """The maximal covering siting of ``k`` sites by CP-SAT (see the module docstring),
    warm-started from :func:`greedy_siting` and never worse than it."""
    greedy = greedy_siting(problem, k, backup=backup)
    demand = problem.demand
    weight = int(demand.sum()) + 1 if backup else 1
    model = cp_model.CpModel()
    pick = [model.new_bool_var(f"x{j}") for j in range(len(problem.covers))]
    model.add(sum(pick) == k)
    by_point: list[list[int]] = [[] for _ in range(len(demand))]
    for j, points in enumerate(problem.covers):
        for i in points:
            by_point[int(i)].append(j)
    terms = []
    for i, covering in enumerate(by_point):
        if not covering or demand[i] == 0:
            continue
        once = model.new_bool_var(f"y{i}")
        reach = sum(pick[j] for j in covering)
        terms.append(weight * int(demand[i]) * once)
        if backup and len(covering) > 1:
            both = model.new_bool_var(f"b{i}")
            model.add(both <= once)
            model.add(once + both <= reach)
            terms.append(int(demand[i]) * both)
        else:
            model.add(once <= reach)
    model.maximize(sum(terms))
    for j, var in enumerate(pick):
        model.add_hint(var, j in greedy.sites)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # No answer in time: CP-SAT proved nothing, so the bound is greedy's own.
        return Siting(greedy.sites, greedy.covered, greedy.backup, greedy.bound, "GREEDY")
    bound = min(int(solver.best_objective_bound) // weight, greedy.bound)
    sites = tuple(j for j, var in enumerate(pick) if solver.value(var))
    covered, twice = problem.evaluate([problem.covers[j] for j in sites])
    if (covered, twice) < (greedy.covered, greedy.backup):
        sites, covered, twice = greedy.sites, greedy.covered, greedy.backup
    name = "OPTIMAL" if status == cp_model.OPTIMAL else "FEASIBLE"
    return Siting(sites, covered, twice, max(bound, covered), name)
