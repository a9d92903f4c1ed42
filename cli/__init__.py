"""The ``embedspace`` command line: click commands only (parse, one library call, print)."""
