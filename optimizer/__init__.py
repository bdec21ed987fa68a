"""Dispatch optimisation: assignment, quotes and the batch re-planning VRP solver."""
