"""The roadside-assistance service: rules, trucks and jobs with their state machine,
intake, triage, quotes, assignment, promises, the dispatch board and live re-planning."""
