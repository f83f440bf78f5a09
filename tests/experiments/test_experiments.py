"""The fisher study kind, the shipped specs, and the claim checks the report is built from."""

import math

import pytest

from contrastive_gmm.experiments.claims import Check, evaluate_check, evaluate_claims
from contrastive_gmm.experiments.engine import StudySetting, plan, run_task
from contrastive_gmm.experiments.spec import (
    ConfigError,
    StudySpec,
    builtin_study_files,
    load_study,
    parse_study,
)


def spec(**changes):
    raw = {
        "kind": "fisher",
        "name": "s",
        "title": "S",
        "seed": 1,
        "seeds": 1,
        "base": {"n_components": 4, "dim": 10, "n_pairs": 1500, "n_test": 200},
        "methods": [{"learner": "pair_cca"}, {"learner": "lda"}, {"learner": "pca"}, {"learner": "spectral_on_means"}],
        "sweeps": [{"axis": "k", "values": [2, 3, 5]}],
    }
    raw.update(changes)
    return parse_study(raw, source="s")


@pytest.mark.parametrize("name", list(builtin_study_files()))
def test_every_shipped_study_validates_full_and_quick(name):
    path = builtin_study_files()[name]
    full, quick = load_study(path), load_study(path, quick=True)
    assert full.name == quick.name == name
    assert isinstance(full, StudySpec) and full.claims
    assert len(plan([quick])) <= len(plan([full]))


def test_target_dimension_below_at_and_above_k_minus_1():
    s = spec()
    runs = {t.setting.label: run_task(t)["rows"] for t in plan([s])}
    value = lambda label, method, metric: next(  # noqa: E731
        r["value"] for r in runs[label] if r["method"] == method and r["metric"] == metric
    )
    for label in ("k=2", "k=3", "k=5"):
        # Containment: a k < K - 1 span inside F, or F inside a k > K - 1 span, is a small angle
        # (measured at n = 1500, d = 10: pair CCA 6.0-6.9, LDA 4.3, PCA 89.5-89.7 degrees).
        assert value(label, "pair CCA", "max_angle") < 10
        assert value(label, "LDA (labels)", "max_angle") < 7  # LDA is capped at K - 1 = 3 directions
        assert value(label, "PCA", "max_angle") > 80
    assert any(r["metric"] == "top_k_angle" for r in runs["k=2"])
    assert not any(r["metric"] == "top_k_angle" for r in runs["k=3"])


def test_runs_are_reproducible_from_the_seed_sequence():
    task = plan([spec()])[0]
    untimed = lambda rows: [(r["method"], r["metric"], r["value"]) for r in rows]  # noqa: E731
    first = untimed(run_task(task)["rows"])
    assert first and first == untimed(run_task(task)["rows"])


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"sweeps": [{"axis": "dimension", "values": [1]}]}, "sweeps.0.axis"),
        ({"sweeps": [{"axis": "k", "values": [2, 20]}]}, "sweeps.0.values.1: k=20 exceeds dim=10"),
        ({"sweeps": [{"axis": "k", "values": [2, 2]}]}, "the label 'k=2' appears twice"),
        ({"sweeps": [], "settings": []}, "needs `sweeps` or `settings`"),
        ({"settings": [{"dim": 10}]}, "settings.0.name"),
        ({"methods": [{"learner": "pca"}, {"learner": "pca"}]}, "two methods share the name 'PCA'"),
        ({"base": {"n_test": 5}}, "base.n_test"),
        ({"claims": [{"text": "{c.nope}", "checks": [{"check": "close", "as": "c", "method": "PCA", "reference": "pair CCA"}]}]},
         "unknown placeholder {c.nope}"),
        ({"claims": [{"text": "{c.method:.2f}", "checks": [{"check": "close", "as": "c", "method": "PCA", "reference": "pair CCA"}]}]},
         "text cannot be filled in"),
        ({"claims": [{"text": "x", "checks": [{"check": "above", "method": "PCA"}]}]}, "needs a threshold"),
        ({"claims": [{"text": "x", "checks": [{"check": "above", "method": "PCA", "threshold": 1, "panel": "dim"}]}]},
         "unknown panel 'dim'"),
    ],
)
def test_spec_errors_name_the_field(raw, message):
    with pytest.raises(ConfigError, match="^s: .*") as info:
        spec(**raw)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_quick_overlay_merges_tables_and_lists_of_tables_by_position():
    raw = {
        "kind": "fisher", "name": "s", "title": "S", "seed": 1, "seeds": 4,
        "base": {"n_components": 4, "dim": 10},
        "methods": [{"learner": "pca"}],
        "sweeps": [{"axis": "k", "values": [1, 2, 3], "label": "k!"}, {"axis": "dim", "values": [10, 20]}],
        "quick": {"seeds": 2, "base": {"n_pairs": 100}, "sweeps": [{"values": [1, 3]}]},
    }
    quick = parse_study(raw, quick=True)
    assert quick.seeds == 2 and quick.base == {"n_components": 4, "dim": 10, "n_pairs": 100}
    assert quick.sweeps[0].values == [1, 3] and quick.sweeps[0].label == "k!"
    assert quick.sweeps[1].values == [10, 20]
    assert parse_study(raw).seeds == 4


def _stats(table, metric="max_angle"):
    return {(label, method, metric): (v, 0.0, 1) for (label, method), v in table.items()}


SETTINGS = [StudySetting(f"x={x}", "x", float(x)) for x in (1, 10, 100)]


def test_close_check_uses_ratio_or_slack_and_reports_the_worst_setting():
    stats = _stats({("x=1", "A"): 3.0, ("x=1", "B"): 2.0, ("x=10", "A"): 4.5, ("x=10", "B"): 2.5, ("x=100", "A"): 4.0, ("x=100", "B"): 4.0})
    result = evaluate_check(Check(check="close", method="A", reference="B"), SETTINGS, stats)
    assert result.holds  # 4.5 <= max(1.5 * 2.5, 2.5 + 2)
    assert result.values["worst_ratio"] == pytest.approx(1.8) and result.values["worst_setting"] == "x=10"
    assert not evaluate_check(Check(check="close", method="A", reference="B", slack=0.5), SETTINGS, stats).holds
    higher = _stats({("x=1", "A"): 0.9, ("x=1", "B"): 1.0}, "nmi")
    nmi = Check(check="close", method="A", reference="B", metric="nmi", better="higher", factor=1.01, slack=0.05)
    assert not evaluate_check(nmi, SETTINGS[:1], higher).holds
    assert evaluate_check(nmi.model_copy(update={"slack": 0.1}), SETTINGS[:1], higher).holds


def test_threshold_trend_and_flat_checks():
    stats = _stats({("x=1", "A"): 40.0, ("x=10", "A"): 20.0, ("x=100", "A"): 10.0})
    above = evaluate_check(Check(check="above", method="A", threshold=15, x_max=10), SETTINGS, stats)
    assert above.holds and above.values["min"] == 20.0 and above.values["n_settings"] == 2
    trend = evaluate_check(Check(check="trend", method="A", direction="decreasing", factor=3), SETTINGS, stats)
    assert trend.holds and trend.values["slope"] == pytest.approx(-math.log10(2)) and trend.values["ratio"] == 0.25
    assert not evaluate_check(Check(check="trend", method="A", direction="increasing"), SETTINGS, stats).holds
    flat = evaluate_check(Check(check="flat", method="A", slack=30), SETTINGS, stats)
    assert flat.holds and flat.values["spread"] == 30.0
    missing = evaluate_check(Check(check="below", method="Z", threshold=1), SETTINGS, stats)
    assert not missing.holds and math.isnan(missing.values["max"])


def test_beats_check_needs_the_margin_on_every_setting():
    stats = _stats({("x=1", "A"): 0.90, ("x=1", "B"): 0.70, ("x=10", "A"): 0.80, ("x=10", "B"): 0.75}, "nmi")
    check = Check(check="beats", method="A", reference="B", metric="nmi", better="higher", margin=0.1)
    result = evaluate_check(check, SETTINGS[:2], stats)
    assert not result.holds  # x=10 gains only 0.05
    assert result.values["min_gain"] == pytest.approx(0.05) and result.values["worst_setting"] == "x=10"
    assert result.values["max_gain"] == pytest.approx(0.2)
    assert evaluate_check(check.model_copy(update={"margin": 0.05 - 1e-12}), SETTINGS[:2], stats).holds
    # A negative margin reads "within": A at most 0.03 below B.
    within = check.model_copy(update={"reference": "A", "method": "B", "margin": -0.03})
    assert not evaluate_check(within, SETTINGS[:2], stats).holds
    assert evaluate_check(within.model_copy(update={"margin": -0.21}), SETTINGS[:2], stats).holds
    # Lower is better: the gain is reference - method.
    angles = _stats({("x=1", "A"): 3.0, ("x=1", "B"): 9.0})
    assert evaluate_check(Check(check="beats", method="A", reference="B", margin=5), SETTINGS[:1], angles).holds
    with pytest.raises(ValueError, match="needs a reference"):
        Check(check="beats", method="A")


def test_claims_fill_their_sentence_from_the_rows():
    s = spec(
        sweeps=[{"axis": "noise_variance", "values": [0.5, 30]}],
        claims=[{"text": "PCA reaches {p.max:.0f}", "checks": [{"check": "above", "as": "p", "method": "PCA", "threshold": 45, "x_min": 30}]}],
    )
    rows = [{"setting": "noise_variance=30", "method": "PCA", "metric": "max_angle", "value": v, "seed": i} for i, v in enumerate([88.0, 90.0])]
    (claim,) = evaluate_claims(s, rows)
    assert claim.holds and claim.sentence == "PCA reaches 89"
    assert "| max_angle | noise_variance=30 |" in claim.tables and "89.0±1.4" in claim.tables


