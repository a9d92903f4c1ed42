"""Speed and memory goals, each measured as a ratio against a reference run in the same process.

Run them all with ``make bench`` (``python -m benchmarks``), or some with ``--only NAME``.
Each ``bench_*.py`` module defines ``run(quick: bool) -> list[dict]``: one row per figure, with at least
``name``, ``ours``, ``reference``, ``ratio`` and ``goal`` (the ratio the issue asks for, as text).
"""
