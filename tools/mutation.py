"""Mutation testing of the core modules: run mutmut, then print the score and every surviving mutant.

The modules mutated and the tests run against each mutant are set in ``[tool.mutmut]`` in ``pyproject.toml``.
A mutant listed in ``tools/equivalent_mutants.toml`` (with the reason it cannot change behaviour) is left out of
the score; every other mutant that no test kills is a survivor and is printed, with its diff when asked.

Usage (from the repository root, with the ``mutation`` extra installed)::

    python tools/mutation.py                  # run everything, then report (many hours on 2 cores, see below)
    python tools/mutation.py --report-only    # report on the results already under mutants/
    python tools/mutation.py 'contrastive_gmm.linalg.*' --diffs   # rerun one module's mutants, show diffs
    python tools/mutation.py --sample 300     # a stratified random sample of 300 mutants: the score estimated

A full run is long (5464 mutants; a survivor of the training loop runs ~270 tests), so ``--sample N`` runs a
random sample instead, stratified by module (each module's share of the sample is its share of the mutants; the
draw is a seeded permutation, so a larger N normally extends a smaller one). Mutants of the sample that an earlier run
already killed keep that result (adding tests cannot revive them); the others are (re)run. The score is then the
stratified estimate ``sum_m (N_m / N) * killed_m / sampled_m`` with its 95% interval (normal approximation with
the finite-population correction), the standard way to estimate a mutation score from a random mutant sample.

The score is ``killed / (mutants - equivalent)``, where "killed" counts a failing test and a timeout, and a mutant
that no test of the fast suite reaches counts against the score (it is a line nobody tests).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = ROOT / "tools" / "equivalent_mutants.toml"
KILLED = {"killed", "timeout", "caught by type check"}
#: Neither killed nor survived (an interrupted run, or a mutant mutmut skips): left out of every score.
NOT_RUN = {"not checked", "skipped"}


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


def stratified_sample(names_by_module: dict[str, list[str]], size: int, seed: int = 0) -> list[str]:
    """``size`` mutants drawn at random, each module getting its share (largest remainders; at least one each).

    The draw within a module is the first mutants of a seeded permutation, so a larger ``size`` with the same seed
    normally contains a smaller one: a sample can be extended without discarding what already ran.
    """
    total = sum(len(v) for v in names_by_module.values())
    if size <= 0 or total == 0:
        raise SystemExit("--sample needs a positive size and mutants under mutants/")
    size = min(size, total)
    quotas = {m: size * len(v) / total for m, v in names_by_module.items()}
    counts = {m: max(1, math.floor(q)) for m, q in quotas.items()}
    for m in sorted(quotas, key=lambda m: counts[m] - quotas[m])[: max(0, size - sum(counts.values()))]:
        counts[m] += 1
    sample = []
    for module, names in sorted(names_by_module.items()):
        order = sorted(names)
        random.Random(f"{seed}:{module}").shuffle(order)
        sample += order[: min(counts[module], len(order))]
    return sample


def sampled_estimate(
    results: dict[str, tuple[str, str]], sample: list[str], equivalent: dict[str, str]
) -> tuple[float, float]:
    """The stratified estimate of the score over all mutants, in percent, and the half-width of its 95% interval.

    Each module's killed fraction among its sampled (non-equivalent) mutants is weighted by the module's number of
    mutants; the variance adds ``w_m^2 p_m (1 - p_m) / (n_m - 1) (1 - n_m / N_m)`` over modules.
    """
    size: Counter = Counter(module for module, _ in results.values())
    killed: Counter = Counter()
    drawn: Counter = Counter()
    for name in sample:
        module, status = results[name]
        if status in NOT_RUN:
            continue
        if status in KILLED or name not in equivalent:
            drawn[module] += 1
            killed[module] += status in KILLED
    total = sum(size[m] for m in drawn)
    estimate = variance = 0.0
    for module, n in drawn.items():
        weight, p = size[module] / total, killed[module] / n
        estimate += weight * p
        if n > 1:
            variance += weight**2 * p * (1 - p) / (n - 1) * (1 - n / size[module])
    return 100.0 * estimate, 100.0 * 1.96 * math.sqrt(variance)


def main(argv: list[str] | None = None) -> int:
    """Run mutmut (unless ``--report-only``), print the table and the survivors; exit 1 below ``--min-score``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants", nargs="*", help="mutant names or globs to (re)run; all by default")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once")
    parser.add_argument("--report-only", action="store_true", help="do not run, report what mutants/ holds")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's diff")
    parser.add_argument("--min-score", type=float, default=85.0, help="exit 1 below this score (percent)")
    parser.add_argument("--sample", type=int, default=0, help="run a stratified random sample of this many mutants")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed")
    args = parser.parse_args(argv)

    mutmut = [str(Path(sys.executable).with_name("mutmut"))]
    equivalent = load_equivalent(EQUIVALENT_FILE)
    sample: list[str] = []
    if args.sample:
        results = load_results(ROOT / "mutants" / "src")
        if not results:  # mutmut makes the mutants (and its test map) on a run; a pattern nothing matches runs none
            subprocess.run([*mutmut, "run", "--max-children", str(args.jobs), "no-such-mutant*"], cwd=ROOT)
            results = load_results(ROOT / "mutants" / "src")
        by_module: dict[str, list[str]] = {}
        for name, (module, _) in results.items():
            by_module.setdefault(module, []).append(name)
        sample = stratified_sample(by_module, args.sample, args.seed)
        args.mutants = [n for n in sample if results[n][1] not in KILLED and n not in equivalent]
        print(f"sample of {len(sample)} mutants (seed {args.seed}): {len(args.mutants)} to run, the rest killed before")
    if not args.report_only and (args.mutants or not args.sample):
        run = subprocess.run([*mutmut, "run", "--max-children", str(args.jobs), *args.mutants], cwd=ROOT)
        if run.returncode != 0:
            return run.returncode
    results = load_results(ROOT / "mutants" / "src")
    if not results:
        print("no mutation results under mutants/: run without --report-only first", file=sys.stderr)
        return 2
    if sample:
        return _report_sample(results, sample, equivalent, args, mutmut)
    stale = sorted(set(equivalent) - set(results))
    table, score = score_table(results, equivalent)
    print(table)
    not_run = sum(s == "not checked" for _, s in results.values())
    survivors = [
        n for n, (_, s) in results.items() if s not in KILLED | NOT_RUN and n not in equivalent
    ]
    print(f"\nmutation score {score:.1f}% ({len(survivors)} survivors, {len(equivalent)} listed as equivalent)")
    if not_run:
        print(f"{not_run} mutants not run yet (an interrupted run): the score is of the others only")
    _print_survivors(survivors, results, args.diffs, mutmut)
    if stale:
        print(f"\n{len(stale)} mutants listed as equivalent no longer exist (the code changed): {stale[:5]}")
    return 0 if score >= args.min_score else 1


def _print_survivors(names: list[str], results: dict[str, tuple[str, str]], diffs: bool, mutmut: list[str]) -> None:
    """One line per surviving mutant, with its diff (from ``mutmut show``) when asked."""
    for name in names:
        print(f"  {results[name][1]:9} {name}")
        if diffs:
            diff = subprocess.run([*mutmut, "show", name], cwd=ROOT, capture_output=True, text=True).stdout
            print("\n".join("      " + line for line in diff.splitlines()[1:]))


def _report_sample(
    results: dict[str, tuple[str, str]],
    sample: list[str],
    equivalent: dict[str, str],
    args: argparse.Namespace,
    mutmut: list[str],
) -> int:
    """The per-module table of the sample, the estimated score with its interval, and the sample's survivors."""
    table, _ = score_table({n: results[n] for n in sample}, equivalent)
    print(table)
    estimate, half_width = sampled_estimate(results, sample, equivalent)
    survivors = [n for n in sample if results[n][1] not in KILLED | NOT_RUN and n not in equivalent]
    not_run = sum(results[n][1] == "not checked" for n in sample)
    if not_run:
        print(f"\n{not_run} sampled mutants not run yet (an interrupted run): the estimate leaves them out")
    print(
        f"\nestimated mutation score {estimate:.1f}% +- {half_width:.1f} (95%) from a sample of {len(sample)} of "
        f"{len(results)} mutants; {len(survivors)} sampled survivors"
    )
    _print_survivors(survivors, results, args.diffs, mutmut)
    return 0 if estimate >= args.min_score else 1


if __name__ == "__main__":
    sys.exit(main())
