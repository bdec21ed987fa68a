"""A fleet planner's day: discrete-event simulation of the dispatch room in simulated time.

- :mod:`.calls`: the day's calls, drawn once from :mod:`optimizer.demand` (or given);
- :mod:`.engine`: the event loop over :class:`optimizer.dispatch.board.DispatchBoard`, the
  crews of :mod:`optimizer.crews` and the drives of :mod:`optimizer.dispatch.legs`;
- :mod:`.policies`: which truck takes a call (nearest idle, nearest, re-plan, coverage);
- :mod:`.kpis`: the day's figures per policy;
- :mod:`.report`: the HTML report comparing the policies.
"""
