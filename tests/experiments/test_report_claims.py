"""Every number a claim sentence quotes is re-computed here from the rows, and every setting it names is one that ran.

The checks below do not call the report's evaluator: they read the rows back (as results.csv
holds them), select each check's settings and compute its values on their own, then demand
that each number printed in the sentence is one of those values to the digits printed. They
run on synthetic rows for every shipped spec (quick and full), so every study kind's real
sentence code is exercised in seconds; set ``CGMM_REPORT_DIR`` to a finished ``cgmm reproduce``
folder to check that run's report as well.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from statistics import mean

import numpy as np
import pytest

from contrastive_gmm.experiments.claims import (
    Check,
    evaluate_check,
    evaluate_claims,
    format_number,
)
from contrastive_gmm.experiments.engine import StudySetting
from contrastive_gmm.experiments.report import (
    build_report,
    load_outputs,
    read_results_csv,
    write_results_csv,
)
from contrastive_gmm.experiments.spec import load_builtin, parse_study

_NUMBER = re.compile(r"(?<![\w.])[-+−]?\d+(?:\.\d+)?(?:e[-+]\d+)?%?")
# Fixed wording that holds a digit but quotes no result: "K - 1", "top-1", "1/K", "K/n", the √n rate and the right angle.
_FIXED = ("K - 1", "top-1", "1/K", "K/n", "a √n rate is -0.5", "90° is the most there is")


def synthetic_rows(spec, seed: int = 0) -> list[dict]:
    """Plausible rows for every setting, method, metric a claim or figure uses, and replicate of ``spec``."""
    rng = np.random.default_rng(seed)
    metrics = list(dict.fromkeys([*getattr(spec, "metrics", []), *(c.metric for cl in spec.claims for c in cl.checks)]))
    rows = []
    for s in spec.expand():
        # A real-data two-view setting runs the two-view methods only.
        methods = spec.two_view_methods if s.params.get("two_view") else getattr(spec, "methods", None)
        for method in methods if isinstance(methods, list) and methods and isinstance(methods[0], str) else spec.method_names():
            for metric in metrics:
                if spec.kind == "fisher" and metric in ("effective_rank", "min_singular_ratio") and "InfoNCE" not in method:
                    continue  # a fisher run reports the map's singular values for InfoNCE only
                for r in range(spec.seeds):
                    if metric.endswith("angle") or metric.startswith("angle"):
                        # PCA-like methods sit just under 90 degrees, where rounding up would print an impossible 90.
                        v = 89.6 + 0.39 * rng.random() if "PCA" in method else float(np.exp(rng.uniform(np.log(0.5), np.log(80))))
                    elif metric in ("energy_outside", "min_singular_ratio"):
                        v = float(np.exp(rng.uniform(np.log(1e-4), np.log(0.5))))
                    elif metric in ("effective_rank", "collapsed"):
                        v = float(rng.uniform(1, 5))
                    else:  # scores in [0, 1]; near-zero ones must not print as 0.00
                        v = 0.001 + 0.004 * rng.random() if "PCA" in method else float(rng.uniform(0.4, 1.0))
                    rows.append({"study": spec.name, "kind": spec.kind, "panel": s.panel, "x": s.x, "setting": s.label,
                                 "method": method, "seed": r, "metric": metric, "value": v,
                                 "fit_seconds": 0.0, "run_seconds": 0.0, "task": f"{s.label}/{r}"})
    return rows


# ---------------------------------------------------------------------------- an independent re-computation


def _means(rows) -> dict[tuple[str, str, str], float]:
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["setting"], r["method"], r["metric"]), []).append(float(r["value"]))
    return {k: mean(v) for k, v in groups.items()}


def _selected(check: Check, settings: list[StudySetting]) -> list[StudySetting]:
    out = []
    for s in settings:
        if check.panel and s.panel != check.panel or check.settings and s.label not in check.settings:
            continue
        if (check.x_min is not None or check.x_max is not None) and isinstance(s.x, str):
            continue
        if check.x_min is not None and s.x < check.x_min or check.x_max is not None and s.x > check.x_max:
            continue
        out.append(s)
    return out


def expected_numbers(check: Check, settings: list[StudySetting], means: dict) -> set[float]:
    """Every number a sentence may quote for ``check``, computed from the means without the report's code."""
    chosen = _selected(check, settings)
    get = lambda s, m: means.get((s.label, m, check.metric), math.nan)  # noqa: E731
    out = {len(chosen), len(settings)}
    if check.check == "close" and check.metric.endswith("angle") and check.better == "lower":
        bound = 45.0 if check.fail is None else check.fail
        aside = [s for s in chosen if get(s, check.reference) > bound]
        out |= {bound, len(aside), *(get(s, check.reference) for s in aside)}
        chosen = [s for s in chosen if s not in aside]
        out.add(len(chosen))
    ms = [get(s, check.method) for s in chosen]
    out |= {float(s.x) for s in chosen if not isinstance(s.x, str)}
    for s in chosen[:1]:
        out |= {float(v) for k, v in s.params.items() if isinstance(v, (int, float)) and all(t.params.get(k) == v for t in chosen)}
    out |= {v for v in (check.threshold, check.factor, check.slack, check.margin, -check.margin) if v is not None}
    if check.check == "close":
        refs = [get(s, check.reference) for s in chosen]
        lower = check.better == "lower"
        out |= {max((m / r if lower else r / m) for m, r in zip(ms, refs)), max((m - r if lower else r - m) for m, r in zip(ms, refs))}
    elif check.check in ("above", "below", "flat"):
        out |= {min(ms), max(ms), max(ms) - min(ms)}
    elif check.check == "trend":
        pts = sorted((float(s.x), m) for s, m in zip(chosen, ms))
        xs, ys = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
        out |= {ys[0], ys[-1], ys[-1] / ys[0], xs[0], xs[-1]}
        if (xs > 0).all() and (ys > 0).all():
            out.add(float(np.polyfit(np.log(xs), np.log(ys), 1)[0]))
    elif check.check == "beats":
        sign = 1 if check.better == "higher" else -1
        gains = [sign * (m - get(s, check.reference)) for s, m in zip(chosen, ms)]
        out |= {min(gains), max(gains)}
    return {float(v) for v in out if v is not None and math.isfinite(float(v))}


def _quoted(token: str) -> tuple[float, float]:
    """A printed number as (value, the half-step its last digit allows, doubled for directed rounding)."""
    percent = token.endswith("%")
    body = token.rstrip("%").replace("−", "-")
    value = float(body)
    if "e" in body:
        step = 10.0 ** (int(body.split("e")[1]) - 1)
    else:
        step = 10.0 ** -len(body.split(".")[1]) if "." in body else 1.0
    return (value / 100, step / 100) if percent else (value, step)


def unexplained_numbers(sentence: str, claim, settings: list[StudySetting], means: dict) -> list[str]:
    """The numbers in ``sentence`` that none of its checks' re-computed values explains."""
    text = sentence
    # Setting names are checked on their own (below); their digits are not quoted results.
    for label in sorted((s.label for s in settings), key=len, reverse=True):
        text = text.replace(label, " ")
    for fixed in _FIXED:
        text = text.replace(fixed, " ")
    allowed = set().union(*(expected_numbers(c, settings, means) for c in claim.checks))
    bad = []
    for token in _NUMBER.findall(text):
        value, step = _quoted(token)
        if not any(abs(value - a) <= step * 1.0001 + 1e-12 for a in allowed):
            bad.append(token)
    return bad


def unknown_settings(sentence: str, settings: list[StudySetting]) -> list[str]:
    """``axis=value`` names in ``sentence`` that are no setting of the spec that ran."""
    labels = [s.label for s in settings]
    return [t for t in re.findall(r"\b[a-z_]+=[\d.]+\b", sentence) if not any(t in label for label in labels)]


def check_report_truth(specs, rows) -> list[str]:
    """Problems with the claim sentences of ``specs`` filled from ``rows`` (empty when every number is explained)."""
    problems = []
    for spec in specs:
        mine = [r for r in rows if r["study"] == spec.name]
        settings, means = spec.expand(), _means(mine)
        for claim, result in zip(spec.claims, evaluate_claims(spec, mine)):
            for bad in unexplained_numbers(result.sentence, claim, settings, means):
                problems.append(f"{spec.name}: {bad!r} in {result.sentence!r}")
            for bad in unknown_settings(result.sentence, settings):
                problems.append(f"{spec.name}: no setting {bad!r} in {result.sentence!r}")
            if re.search(r"\b90(\.0+)?° or more", result.sentence):
                problems.append(f"{spec.name}: an angle of 90° or more (90 is the largest) in {result.sentence!r}")
    return problems


# ---------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_every_quoted_number_and_setting_comes_from_the_rows_and_the_spec(quick, tmp_path):
    specs = load_builtin(quick=quick)
    rows = [r for i, spec in enumerate(specs) for r in synthetic_rows(spec, seed=i)]
    # Through results.csv and back, as `cgmm report` reads it.
    write_results_csv(rows, tmp_path / "results.csv")
    rows = read_results_csv(tmp_path / "results.csv")
    assert check_report_truth(specs, rows) == []


def test_the_checker_catches_a_hard_coded_number_and_a_setting_that_did_not_run():
    spec = load_builtin(["sample_size"], quick=True)[0]
    rows = synthetic_rows(spec)
    claim = spec.claims[1]
    means, settings = _means(rows), spec.expand()
    assert unexplained_numbers("From n = 2000 pairs on, InfoNCE is within 1.30x", claim, settings, means) == ["2000", "1.30"]
    assert unknown_settings("largest at n_pairs=2000", settings) == ["n_pairs=2000"]
    assert unknown_settings("largest at n_pairs=4000", settings) == []


@pytest.mark.skipif(not os.environ.get("CGMM_REPORT_DIR"), reason="set CGMM_REPORT_DIR to a finished reproduce folder")
def test_a_finished_run_quotes_only_its_own_numbers():
    specs, rows, _ = load_outputs(os.environ["CGMM_REPORT_DIR"])
    assert check_report_truth(specs, rows) == []
    assert (Path(os.environ["CGMM_REPORT_DIR"]) / "report.md").stat().st_size < 25_000


def test_a_real_quick_run_of_a_shipped_study_supports_its_claims_with_its_own_numbers(tmp_path):
    # The whole path a user runs, no monkeypatching: cgmm reproduce on a shipped spec (sample_size,
    # the cheapest: about 10 s), its claims evaluated on the runs' real rows and re-checked here.
    from typer.testing import CliRunner

    from contrastive_gmm.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["reproduce", "--quick", "--only", "sample_size", "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    specs, rows, _ = load_outputs(out)
    assert [s.name for s in specs] == ["sample_size"] and rows
    assert check_report_truth(specs, rows) == []
    claims = evaluate_claims(specs[0], rows)
    assert claims and all(c.holds for c in claims), [c.sentence for c in claims if not c.holds]
    assert result.output.count("[supported] sample_size:") == len(claims)


def test_quick_report_is_small_and_shows_each_table_line_once():
    specs = load_builtin(quick=True)
    rows = [r for i, spec in enumerate(specs) for r in synthetic_rows(spec, seed=i)]
    by = {s.name: [r for r in rows if r["study"] == s.name] for s in specs}
    claims = {s.name: evaluate_claims(s, by[s.name]) for s in specs}
    manifest = {"command": "cgmm reproduce --quick", "quick": True, "versions": {"numpy": "x"}}
    report = build_report(specs, rows, manifest, {s.name: f"{s.name}.png" for s in specs}, claims)
    assert len(report.encode()) < 25_000
    assert "A `--quick` run" in report
    data_lines = [line for line in report.splitlines() if line.startswith("| ") and "±" in line]
    assert len(data_lines) == len(set(data_lines)) > 50
    # What ran is stated from the spec: the quick sample size, never the full one.
    assert "n_pairs 10000" in report and "n_pairs 20000" not in report


def test_a_close_check_sets_aside_settings_where_the_reference_fails_too():
    settings = [StudySetting(f"delta={d:g}", "delta", d) for d in (0.0, 0.6, 0.9)]
    stats = {(s.label, m, "max_angle"): (v, 0.0, 3) for s, (a, b) in zip(settings, [(2.0, 1.8), (9.0, 8.0), (80.0, 75.0)])
             for m, v in (("InfoNCE", a), ("pair CCA", b))}
    check = Check(check="close", method="InfoNCE", reference="pair CCA")
    result = evaluate_check(check, settings, stats, {"delta": "δ"}.get)
    assert result.holds and [s.label for s, _ in result.set_aside] == ["delta=0.9"]
    assert result.values["at"] == "δ = 0 and 0.6" and result.values["n_settings"] == 2
    assert result.values["worst_diff_setting"] == "delta=0.6" and result.values["worst_setting"] == "delta=0.6"
    # Where the reference fails everywhere the check has nothing to stand on.
    assert not evaluate_check(check.model_copy(update={"fail": 1.0}), settings, stats).holds


def test_largest_ratio_and_largest_gap_are_named_where_each_is():
    settings = [StudySetting(f"a={x}", "a", float(x)) for x in (1, 10, 100)]
    table = {"a=1": (3.0, 2.0), "a=10": (9.0, 7.0), "a=100": (0.5, 0.2)}
    stats = {(k, m, "max_angle"): (v, 0.0, 2) for k, (a, b) in table.items() for m, v in (("A", a), ("B", b))}
    values = evaluate_check(Check(check="close", method="A", reference="B"), settings, stats).values
    assert values["worst_setting"] == "a=100" and values["worst_ratio"] == pytest.approx(2.5)
    assert values["worst_diff_setting"] == "a=10" and values["worst_diff"] == pytest.approx(2.0)


def test_numbers_are_rounded_towards_what_the_sentence_claims_and_never_to_zero():
    assert format_number(89.98, ".1f", "down") == "89.9"
    assert format_number(1.201, ".2f", "up") == "1.21"
    assert format_number(0.25, ".2f", "up") == "0.25"
    assert format_number(0.0042, ".2f", "up") == "0.005"
    assert format_number(0.0, ".2f") == "0.00"
    assert format_number(0.0087, ".2%", "up") == "0.87%"


def test_a_claim_may_quote_a_setting_parameter_but_not_an_unknown_field():
    base = {"kind": "fisher", "name": "t", "title": "T", "seed": 0, "methods": [{"learner": "pca"}],
            "base": {"n_pairs": 700}, "sweeps": [{"axis": "dim", "values": [10, 20]}]}
    ok = {"text": "PCA at n = {p.params.n_pairs:g}, {p.at}", "checks": [{"check": "above", "as": "p", "method": "PCA", "threshold": 1}]}
    spec = parse_study({**base, "claims": [ok]})
    rows = [{"setting": s.label, "method": "PCA", "metric": "max_angle", "value": 80.0, "seed": 0} for s in spec.expand()]
    assert evaluate_claims(spec, rows)[0].sentence == "PCA at n = 700, d = 10 and 20"
    with pytest.raises(ValueError, match="unknown placeholder"):
        parse_study({**base, "claims": [{**ok, "text": "{p.nope}"}]})
