"""The ``real_data`` study kind: the real-data protocol as a ``cgmm reproduce`` study."""

import numpy as np
import pytest

from contrastive_gmm.experiments.engine import plan, run_task
from contrastive_gmm.experiments.real_data import (
    RealDataStudy,
    evaluate_single_view,
    plot_real_data,
)
from contrastive_gmm.experiments.spec import (
    ConfigError,
    builtin_study_files,
    load_study,
    parse_study,
)


def _spec(**changes):
    raw = {"kind": "real_data", "name": "r", "title": "R", "seed": 5, "seeds": 1, "ks": [2], "deltas": [0.0, 0.5]}
    raw.update(changes)
    return parse_study(raw, source="r.toml")


def _values(rows, method, metric):
    return [r["value"] for r in rows if r["method"] == method and r["metric"] == metric]


def test_settings_are_a_delta_panel_per_k_then_the_two_views():
    spec = _spec(ks=[2, 4], two_view_ks=[3])
    settings = spec.expand()
    assert [s.label for s in settings] == [
        "digits k=2 delta=0", "digits k=2 delta=0.5", "digits k=4 delta=0", "digits k=4 delta=0.5", "digits-views k=3",
    ]
    assert [s.panel for s in settings] == ["digits, k = 2"] * 2 + ["digits, k = 4"] * 2 + ["two views"]
    assert [s.x for s in settings[:2]] == [0.0, 0.5] and settings[-1].params["two_view"] is True
    assert not any(s.params.get("two_view") for s in _spec(dataset="wine").expand())
    assert [s.params["k"] for s in _spec(dataset="wine", ks=None).expand()] == [1, 1, 2, 2, 4, 4]  # default_ks(3, 13)


def test_a_run_is_one_seed_of_the_protocol_with_the_runs_seed():
    spec = _spec(dataset="wine", methods=["InfoNCE", "LDA (labels)", "PCA"])
    task = plan([spec])[0]
    rows = run_task(task)["rows"]
    seed = int(task.seed_sequence().generate_state(1)[0]) % (2**31)
    from contrastive_gmm.data.datasets import load_real_dataset

    X, y = load_real_dataset("wine")
    expected = evaluate_single_view(X, y, ks=[2], deltas=[0.0], seed=seed, methods=["InfoNCE", "LDA (labels)", "PCA"], standardize=True)
    assert [(r["method"], r["metric"]) for r in rows] == [(r["method"], r["metric"]) for r in expected]
    np.testing.assert_array_equal([r["value"] for r in rows], [r["value"] for r in expected])
    # Wine is easy: LDA separates its three cultivars, InfoNCE on same-class pairs nearly does.
    assert _values(rows, "LDA (labels)", "nmi")[0] > 0.8
    assert _values(rows, "InfoNCE", "nmi")[0] > 0.7


def test_two_view_run_reports_each_view_their_mean_and_retrieval(tmp_path):
    spec = _spec(ks=[9], deltas=[0.0], n_samples=600, two_view_methods=["CLIP (same class)", "PCA (per view)"])
    tasks = plan([spec])
    rows = run_task(tasks[-1])["rows"]
    for method in ("CLIP (same class)", "PCA (per view)"):
        v1, v2, mean = (_values(rows, method, m)[0] for m in ("nmi_view1", "nmi_view2", "nmi"))
        assert mean == pytest.approx((v1 + v2) / 2)
    assert _values(rows, "CLIP (same class)", "nmi")[0] > _values(rows, "PCA (per view)", "nmi")[0]
    top1 = _values(rows, "CLIP (same class)", "retrieval_same_class_top1")[0]
    assert 0.5 < top1 <= 1.0  # chance is 1/10
    single = run_task(tasks[0])["rows"]
    out = tmp_path / "r.png"
    long = [{**r, "setting": t.setting.label, "seed": 0} for t, rs in ((tasks[0], single), (tasks[-1], rows)) for r in rs]
    plot_real_data(spec, long, out)
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"deltas": [0.0, 1.5]}, r"deltas.1: must be in \[0, 1\]; got 1.5"),
        ({"ks": [0]}, "ks.0: must be >= 1"),
        ({"dataset": "cifar"}, "dataset"),
        ({"dataset": "wine", "two_view": True}, "only digits has two views"),
        ({"methods": ["InfoNCE", "NotAMethod"]}, "methods.1"),
        ({"test_size": 1.0}, "test_size"),
        ({"claims": [{"text": "x", "checks": [{"check": "beats", "method": "InfoNCE", "reference": "LDA"}]}]}, "unknown method 'LDA'"),
    ],
)
def test_bad_specs_name_the_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        _spec(**changes)


def test_shipped_spec_checks_issue_5_targets_in_quick_and_full():
    full = load_study(builtin_study_files()["real_data"])
    quick = load_study(builtin_study_files()["real_data"], quick=True)
    assert isinstance(full, RealDataStudy) and len(plan([quick])) < len(plan([full]))
    for spec in (full, quick):
        labels = {s.label for s in spec.expand()}
        assert {"digits k=9 delta=0", "digits k=9 delta=0.3", "digits-views k=9"} <= labels
        assert spec.seeds == (5 if spec is full else 3)  # quick keeps three replicates for its mean ± sd
