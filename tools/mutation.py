"""Mutation testing of the core modules: run mutmut, then print the score and every surviving mutant.

The modules mutated and the tests run against each mutant are set in ``[tool.mutmut]`` in ``pyproject.toml``.
A mutant listed in ``tools/equivalent_mutants.toml`` (with the reason it cannot change behaviour) is left out of
the score; every other mutant that no test kills is a survivor and is printed, with its diff when asked.

Usage (from the repository root, with the ``mutation`` extra installed)::

    python tools/mutation.py                  # run everything, then report (about 1-2 h on 2 cores)
    python tools/mutation.py --report-only    # report on the results already under mutants/
    python tools/mutation.py 'contrastive_gmm.linalg.*' --diffs   # rerun one module's mutants, show diffs

The score is ``killed / (mutants - equivalent)``, where "killed" counts a failing test and a timeout, and a mutant
that no test of the fast suite reaches counts against the score (it is a line nobody tests).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = ROOT / "tools" / "equivalent_mutants.toml"
KILLED = {"killed", "timeout", "caught by type check"}


def status_of(exit_code: int | None) -> str:
    """The word mutmut gives an exit code (its own table, so the two never disagree)."""
    from mutmut.stats import status_by_exit_code

    return status_by_exit_code[exit_code]


def load_results(mutants_dir: Path) -> dict[str, tuple[str, str]]:
    """Every mutant's name -> (module file, status), read from mutmut's ``.meta`` files."""
    results: dict[str, tuple[str, str]] = {}
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        module = str(meta.relative_to(mutants_dir).with_suffix(""))
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            results[name] = (module, status_of(code))
    return results


def load_equivalent(path: Path) -> dict[str, str]:
    """Mutant name -> why it is equivalent, from ``equivalent_mutants.toml``; each entry must give a reason."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text()).get("mutant", [])
    equivalent = {}
    for entry in entries:
        if not entry.get("why"):
            raise SystemExit(f"{path}: {entry.get('name')!r} is listed without a reason ('why')")
        equivalent[entry["name"]] = entry["why"]
    return equivalent


def score_table(results: dict[str, tuple[str, str]], equivalent: dict[str, str]) -> tuple[str, float]:
    """The per-module table and the overall score in percent."""
    rows: dict[str, Counter] = {}
    for name, (module, status) in results.items():
        kind = "equivalent" if name in equivalent and status not in KILLED else status
        kind = "killed" if kind in KILLED else kind
        rows.setdefault(module, Counter())[kind] += 1
    header = f"{'module':44} {'mutants':>7} {'killed':>7} {'survived':>8} {'no test':>7} {'equiv.':>6} {'score':>6}"
    lines = [header, "-" * len(header)]
    total: Counter = Counter()
    for module, counts in sorted(rows.items()):
        total.update(counts)
        lines.append(_row(module, counts))
    lines.append("-" * len(header))
    lines.append(_row("all core modules", total))
    return "\n".join(lines), _score(total)


def _score(counts: Counter) -> float:
    # A mutant not yet run (an interrupted run) is neither killed nor survived: it is left out.
    tested = sum(counts.values()) - counts["equivalent"] - counts["skipped"] - counts["not checked"]
    return 100.0 * counts["killed"] / tested if tested else 100.0


def _row(module: str, counts: Counter) -> str:
    return (
        f"{module:44} {sum(counts.values()):7d} {counts['killed']:7d} {counts['survived']:8d} "
        f"{counts['no tests']:7d} {counts['equivalent']:6d} "
        + (f"{_score(counts):5.1f}%" if counts["not checked"] < sum(counts.values()) else "   n/a")
    )


def main(argv: list[str] | None = None) -> int:
    """Run mutmut (unless ``--report-only``), print the table and the survivors; exit 1 below ``--min-score``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants", nargs="*", help="mutant names or globs to (re)run; all by default")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once")
    parser.add_argument("--report-only", action="store_true", help="do not run, report what mutants/ holds")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's diff")
    parser.add_argument("--min-score", type=float, default=85.0, help="exit 1 below this score (percent)")
    args = parser.parse_args(argv)

    mutmut = [str(Path(sys.executable).with_name("mutmut"))]
    if not args.report_only:
        run = subprocess.run([*mutmut, "run", "--max-children", str(args.jobs), *args.mutants], cwd=ROOT)
        if run.returncode != 0:
            return run.returncode
    results = load_results(ROOT / "mutants" / "src")
    if not results:
        print("no mutation results under mutants/: run without --report-only first", file=sys.stderr)
        return 2
    equivalent = load_equivalent(EQUIVALENT_FILE)
    stale = sorted(set(equivalent) - set(results))
    table, score = score_table(results, equivalent)
    print(table)
    not_run = sum(s == "not checked" for _, s in results.values())
    survivors = [
        n for n, (_, s) in results.items() if s not in KILLED | {"skipped", "not checked"} and n not in equivalent
    ]
    print(f"\nmutation score {score:.1f}% ({len(survivors)} survivors, {len(equivalent)} listed as equivalent)")
    if not_run:
        print(f"{not_run} mutants not run yet (an interrupted run): the score is of the others only")
    for name in survivors:
        print(f"  {results[name][1]:9} {name}")
        if args.diffs:
            diff = subprocess.run([*mutmut, "show", name], cwd=ROOT, capture_output=True, text=True).stdout
            print("\n".join("      " + line for line in diff.splitlines()[1:]))
    if stale:
        print(f"\n{len(stale)} mutants listed as equivalent no longer exist (the code changed): {stale[:5]}")
    return 0 if score >= args.min_score else 1


if __name__ == "__main__":
    sys.exit(main())
