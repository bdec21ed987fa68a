"""Dispatch decisions: the service (``dispatch``), the routing engine (``vrp``), and the
fleet planners' models built on them (demand, coverage)."""
