"""Run every benchmark module (``bench_*.py``) and print its rows as a table."""
from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys

import benchmarks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=benchmarks.__doc__)
    parser.add_argument("--only", action="append", default=[], help="run only modules whose name contains this")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    names = [n for n in names if not args.only or any(o in n for o in args.only)]
    rows = []
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        for row in module.run(quick=args.quick):
            rows.append({"module": name, **row})
            if not args.json:
                print(format_row(row), flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


def format_row(row: dict) -> str:
    """One line: the figure, ours vs the reference, the ratio and the goal."""
    extra = {k: v for k, v in row.items() if k not in {"name", "ours", "reference", "ratio", "goal"}}
    return (f"{row['name']:<58} ours {row.get('ours', '-')!s:>12}  ref {row.get('reference', '-')!s:>12}  "
            f"ratio {row.get('ratio', '-')!s:>8}  goal {row.get('goal', '-')}" + (f"  {extra}" if extra else ""))


if __name__ == "__main__":
    sys.exit(main())
