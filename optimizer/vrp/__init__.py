"""A standalone VROOM-format vehicle routing problem: parse, solve with OR-Tools, check
independently, read Solomon instances. Imports nothing else of the project."""
