"""Command line of rescue-dispatch: ``rescue <command> ...`` (see README)."""
