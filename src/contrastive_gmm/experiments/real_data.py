"""The ``real_data`` study kind: :mod:`contrastive_gmm.embedding`'s protocol as a ``cgmm reproduce`` study.

Settings are single-view points ``"<dataset> k=<k> delta=<delta>"`` (one panel per k, x = delta:
the figure is held-out k-means NMI against delta, with LDA, PCA and raw features flat because
they do not use pairs) and, for digits, two-view points ``"<dataset>-views k=<k>"`` (CLIP across
two views of each digit against per-view PCA and LDA). Each run is one seed of
:func:`~contrastive_gmm.experiments.real_data.evaluate_single_view` or
:func:`~contrastive_gmm.experiments.real_data.evaluate_two_view`; the split, the subset and the partner
draws come from the run's SeedSequence, so with common random numbers every delta of one
replicate shares its split and partners (only the noisy replacements differ).

Two-view runs report each view's scores (``nmi_view1``, ``nmi_view2``, ...), their mean under
the single-view names (``nmi``, ...: so both panels share the figure's rows), and CLIP's
held-out cross-view retrieval (``retrieval_top1``, ``retrieval_same_class_top1``).

Examples
--------
>>> from contrastive_gmm.experiments.spec import parse_study
>>> spec = parse_study({"kind": "real_data", "name": "r", "title": "R", "seed": 0, "ks": [9],
...                     "deltas": [0.0, 0.3]}, source="r.toml")
>>> [s.label for s in spec.expand()]
['digits k=9 delta=0', 'digits k=9 delta=0.3', 'digits-views k=9']
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Optional, Sequence

import numpy as np
from numpy.typing import ArrayLike
from pydantic import AfterValidator, Field, model_validator
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from contrastive_gmm._validation import (
    check_choice,
    check_labels,
    check_matrix,
    check_positive_int,
    check_probability,
)
from contrastive_gmm.data.datasets import (
    DIGIT_VIEWS,
    REAL_DATASETS,
    load_digits_views,
    load_real_dataset,
)
from contrastive_gmm.data.pairs import pair_indices_from_labels
from contrastive_gmm.defaults import N_PAIRS_PER_SAMPLE, PREPROCESS_VARIANCE
from contrastive_gmm.embedding import (
    _check_k,
    _warn_if_one_dimensional,
    _whitened_maps,
    _whitened_two_view_maps,
    pca_preprocessor,
    standardizer,
)
from contrastive_gmm.experiments.claims import setting_stats
from contrastive_gmm.experiments.engine import (
    StudySetting,
    learner_seed,
    register_kind,
    timed_fit,
)
from contrastive_gmm.experiments.figures import plot_panels
from contrastive_gmm.experiments.spec import StudySpec
from contrastive_gmm.learners.training import single_threaded
from contrastive_gmm.learners.two_tower import CLIP
from contrastive_gmm.methods import all_methods, find_method, get_method
from contrastive_gmm.metrics import (
    cluster_scores,
    linear_probe_accuracy,
    retrieval_accuracy,
)

#: The single-view methods by name in tables; any registered pair method's label works too, and
#: "<label> (unscaled)" is its map as trained, before the pair whitening.
SINGLE_VIEW_METHODS = ("InfoNCE", "InfoNCE (unscaled)", "pair CCA", "LDA (labels)", "PCA", "raw features")
_FIXED = ("LDA (labels)", "PCA", "raw features")


def _pair_method(name: str) -> Any:
    """The registered pair method a single-view method name stands for (itself, or "<label> (unscaled)"), or None."""
    found = find_method(name.removesuffix(" (unscaled)"))
    return found if found is not None and found.inputs == "pairs" else None


def check_single_view_method(name: str) -> str:
    """``name`` if the single-view protocol knows it (a fixed baseline or a registered pair method), else ValueError."""
    if name not in _FIXED and _pair_method(name) is None:
        raise ValueError(
            f"methods: unknown single-view method {name!r}; use {list(_FIXED)} or the label of a method fitted on pairs "
            f"({[m.label for m in all_methods('pairs')]}), optionally followed by ' (unscaled)'"
        )
    return name


TWO_VIEW_METHODS = (
    "CLIP (same class)",
    "CLIP (same class, unscaled)",
    "CLIP (same object)",
    "CLIP (same object, unscaled)",
    "PCA (per view)",
    "LDA (per view, labels)",
)


SCORES = ("nmi", "ari", "accuracy", "probe_accuracy")


STUDY = "real_data"


def _score(Z_train: np.ndarray, y_train: np.ndarray, Z_test: np.ndarray, y_test: np.ndarray, n_clusters: int, seed: int) -> dict[str, float]:
    out = cluster_scores(Z_test, y_test, n_clusters=n_clusters, random_state=seed)
    with warnings.catch_warnings():
        # A probe on raw pixels can stop at max_iter; its accuracy is still the number we report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        out["probe_accuracy"] = linear_probe_accuracy(Z_train, y_train, Z_test, y_test)
    return out


def _row(dataset: str, k: int, delta: float, method: str, seed: int, metric: str, value: float, fit_seconds: float, study: str) -> dict:
    return {
        "study": study, "setting": f"{dataset} k={k} delta={delta:g}", "method": method, "seed": seed, "metric": metric,
        "value": float(value), "dataset": dataset, "k": k, "delta": float(delta), "fit_seconds": float(fit_seconds),
    }


def _split(n_samples: int, y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return train_test_split(np.arange(n_samples), test_size=test_size, stratify=y, random_state=seed)


@single_threaded()
def evaluate_single_view(
    X: ArrayLike,
    y: ArrayLike,
    *,
    ks: Sequence[int],
    deltas: Sequence[float] = (0.0,),
    seed: int = 0,
    test_size: float = 0.3,
    n_pairs_per_sample: int = N_PAIRS_PER_SAMPLE,
    variance: float = PREPROCESS_VARIANCE,
    methods: Sequence[str] = SINGLE_VIEW_METHODS,
    standardize: bool = False,
    dataset: str = "data",
    study: str = STUDY,
) -> list[dict]:
    """One seed of the single-view protocol (see the module docstring); returns long-format rows.

    ``standardize`` scales every feature to unit variance on the training split first, for
    every method (PCA and raw features included): for features in different units.

    Examples
    --------
    >>> X, y = load_real_dataset("wine")
    >>> rows = evaluate_single_view(X, y, ks=[2], methods=["LDA (labels)", "PCA"], standardize=True, dataset="wine")
    >>> sorted({r["metric"] for r in rows}), len(rows)
    (['accuracy', 'ari', 'nmi', 'probe_accuracy'], 8)
    """
    X = check_matrix(X, "X")
    y = check_labels(y, X.shape[0])
    for m in methods:
        check_single_view_method(m)
    ks = [check_positive_int(k, "ks") for k in ks]
    deltas = [check_probability(d, "deltas") for d in deltas]
    train, test = _split(X.shape[0], y, test_size, seed)
    Xtr, Xte, ytr, yte = X[train], X[test], y[train], y[test]
    if standardize:
        scaler = standardizer(Xtr)
        Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    K = len(np.unique(y))
    pre, t_pre = timed_fit(pca_preprocessor, Xtr, variance)
    Utr, Ute = pre.transform(Xtr), pre.transform(Xte)
    rows: list[dict] = []
    raw = _score(Xtr, ytr, Xte, yte, K, seed) if "raw features" in methods else None
    lda_scores: dict[int, tuple[dict, float]] = {}
    for k in ks:
        fixed: dict[str, tuple[dict, float]] = {}
        if raw is not None:
            fixed["raw features"] = (raw, 0.0)
        if "LDA (labels)" in methods:
            n_lda = min(k, K - 1, pre.n_components)
            if n_lda not in lda_scores:  # k beyond K - 1 gives the same LDA: fit and score it once
                lda, t = timed_fit(LinearDiscriminantAnalysis(n_components=n_lda).fit, Utr, ytr)
                lda_scores[n_lda] = (_score(lda.transform(Utr), ytr, lda.transform(Ute), yte, K, seed), t + t_pre)
            fixed["LDA (labels)"] = lda_scores[n_lda]
        if "PCA" in methods:
            pca, t = timed_fit(PCA(min(k, *Xtr.shape), svd_solver="full").fit, Xtr)
            fixed["PCA"] = (_score(pca.transform(Xtr), ytr, pca.transform(Xte), yte, K, seed), t)
        for delta in deltas:
            learned: dict[str, tuple[dict, float]] = {}
            pair_methods = [m for m in methods if m not in _FIXED]
            if pair_methods:
                _check_k(k, pre.n_components, f"kept by preprocessing ({variance:g} of the variance)")
                # The same partner draws for every delta: only the noisy replacements differ (common random numbers).
                P = pair_indices_from_labels(ytr, delta, n_pairs_per_sample, np.random.default_rng(seed))
                A, B = Utr[P[:, 0]], Utr[P[:, 1]]
            for label in dict.fromkeys(m.removesuffix(" (unscaled)") for m in pair_methods):
                spec = get_method(label)
                if spec.name == "infonce":
                    _warn_if_one_dimensional(k)
                # One fit per method: "(unscaled)" is the same map before the pair whitening.
                model, t = timed_fit(spec.build(k, seed).fit, A, B)
                for name, emb in zip((f"{label} (unscaled)", label), _whitened_maps(model, A, B)):
                    if name in methods:
                        learned[name] = (_score(emb.transform(Utr), ytr, emb.transform(Ute), yte, K, seed), t + t_pre)
            for method in methods:
                scores, t = learned.get(method) or fixed[method]
                rows += [_row(dataset, k, delta, method, seed, metric, scores[metric], t, study) for metric in SCORES]
    return rows


@single_threaded()
def evaluate_two_view(
    X1: ArrayLike,
    X2: ArrayLike,
    y: ArrayLike,
    *,
    k: int,
    seed: int = 0,
    test_size: float = 0.3,
    n_pairs_per_sample: int = N_PAIRS_PER_SAMPLE,
    variance: float = PREPROCESS_VARIANCE,
    methods: Sequence[str] = TWO_VIEW_METHODS,
    standardize: bool = False,
    dataset: str = "data-views",
    study: str = STUDY,
) -> list[dict]:
    """One seed of the two-view protocol: CLIP across the views against per-view PCA and LDA.

    CLIP "same object" pairs row i of view 1 with row i of view 2 (the data as given); "same
    class" pairs view 1 of a row with view 2 of a random other row of its class
    (``n_pairs_per_sample`` per row): the two modalities then share only the class, which is
    THEORY.md's multimodal setting. Metrics per view (``nmi_view1``, ``probe_accuracy_view2``,
    ...) and, for CLIP, held-out retrieval across views (mean of both directions):
    ``retrieval_top1`` (the row's own other view is the best match; chance 1/n_test) and
    ``retrieval_same_class_top1`` (the best match has the row's class).
    """
    X1, X2 = check_matrix(X1, "X1"), check_matrix(X2, "X2")
    if X1.shape[0] != X2.shape[0]:
        raise ValueError(f"X1 and X2 must be row-paired; got {X1.shape[0]} and {X2.shape[0]} rows.")
    y = check_labels(y, X1.shape[0])
    for m in methods:
        check_choice(m, "methods", TWO_VIEW_METHODS)
    k = check_positive_int(k, "k")
    train, test = _split(X1.shape[0], y, test_size, seed)
    ytr, yte = y[train], y[test]
    K = len(np.unique(y))
    views = [(X[train], X[test]) for X in (X1, X2)]
    if standardize:
        scalers = [standardizer(tr) for tr, _ in views]
        views = [(sc.transform(tr), sc.transform(te)) for sc, (tr, te) in zip(scalers, views)]
    pres = [pca_preprocessor(tr, variance) for tr, _ in views]
    U = [(p.transform(tr), p.transform(te)) for p, (tr, te) in zip(pres, views)]
    rows: list[dict] = []

    def emit(method: str, per_view: list[dict], extra: dict[str, float], t: float) -> None:
        values = {f"{m}_view{v + 1}": s[m] for v, s in enumerate(per_view) for m in SCORES} | extra
        rows.extend(_row(dataset, k, 0.0, method, seed, name, value, t, study) for name, value in values.items())

    for kind in ("same class", "same object"):
        wanted = [m for m in (f"CLIP ({kind})", f"CLIP ({kind}, unscaled)") if m in methods]
        if not wanted:
            continue
        _check_k(k, min(p.n_components for p in pres), f"kept by preprocessing in both views ({variance:g} of the variance)")
        if kind == "same object":
            P = np.column_stack([np.arange(len(train))] * 2)
        else:
            P = pair_indices_from_labels(ytr, 0.0, n_pairs_per_sample, np.random.default_rng(seed))
        A, B = U[0][0][P[:, 0]], U[1][0][P[:, 1]]
        clip, t = timed_fit(CLIP(k, random_state=seed).fit, A, B)
        plain, whitened = _whitened_two_view_maps(clip, A, B)
        for method in wanted:
            maps = plain if method.endswith("unscaled)") else whitened
            Ztr = list(maps.transform(U[0][0], U[1][0]))
            Zte = list(maps.transform(U[0][1], U[1][1]))
            per_view = [_score(Ztr[v], ytr, Zte[v], yte, K, seed) for v in range(2)]
            r = retrieval_accuracy(Zte[0], Zte[1], ks=(1,), labels=yte)
            extra = {
                "retrieval_top1": (r["x_to_y_top1"] + r["y_to_x_top1"]) / 2,
                "retrieval_same_class_top1": (r["x_to_y_same_component"] + r["y_to_x_same_component"]) / 2,
            }
            emit(method, per_view, extra, t)
    if "PCA (per view)" in methods:
        pcas, t = timed_fit(lambda: [PCA(min(k, *tr.shape), svd_solver="full").fit(tr) for tr, _ in views])
        emit("PCA (per view)", [_score(p.transform(tr), ytr, p.transform(te), yte, K, seed) for p, (tr, te) in zip(pcas, views)], {}, t)
    if "LDA (per view, labels)" in methods:
        ldas, t = timed_fit(lambda: [LinearDiscriminantAnalysis(n_components=min(k, K - 1, p.n_components)).fit(tr, ytr)
                                     for p, (tr, _) in zip(pres, U)])
        emit("LDA (per view, labels)", [_score(l.transform(tr), ytr, l.transform(te), yte, K, seed) for l, (tr, te) in zip(ldas, U)], {}, t)
    return rows


def default_ks(n_classes: int, n_features: int) -> tuple[int, ...]:
    """K - 1 and a few other k: half of it and twice it (capped at ``n_features``).

    Examples
    --------
    >>> default_ks(10, 64), default_ks(3, 13), default_ks(2, 30)
    ((4, 9, 18), (1, 2, 4), (1, 2))
    """
    base = max(1, n_classes - 1)
    return tuple(sorted({k for k in (max(1, base // 2), base, 2 * base) if k <= n_features}))


def default_standardize(dataset: str) -> bool:
    """Whether the protocol standardises ``dataset``'s features by default: not digits' pixels (see the module docstring).

    >>> default_standardize("digits"), default_standardize("wine")
    (False, True)
    """
    return dataset != "digits"


def check_two_view(dataset: str, two_view: bool | None) -> bool:
    """Whether to run the two-view protocol: by default for digits, the one bundled set with two views."""
    if two_view is None:
        return dataset == "digits"
    if two_view and dataset != "digits":
        raise ValueError(f"two_view needs a two-view data set; only digits has two views (load_digits_views); got {dataset!r}.")
    return bool(two_view)


def _stratified_subset(n: int, y: np.ndarray, n_samples: int | None, seed: int) -> np.ndarray:
    if n_samples is None or n_samples >= n:
        return np.arange(n)
    return np.sort(train_test_split(np.arange(n), train_size=n_samples, stratify=y, random_state=seed)[0])


def run_real_data_study(
    dataset: str = "digits",
    *,
    ks: Sequence[int] | None = None,
    deltas: Sequence[float] = (0.0, 0.3),
    seeds: int | Iterable[int] = 5,
    two_view: bool | None = None,
    two_view_ks: Sequence[int] | None = None,
    views: str = "checkerboard",
    n_samples: int | None = None,
    test_size: float = 0.3,
    n_pairs_per_sample: int = N_PAIRS_PER_SAMPLE,
    variance: float = PREPROCESS_VARIANCE,
    methods: Sequence[str] = SINGLE_VIEW_METHODS,
    two_view_methods: Sequence[str] = TWO_VIEW_METHODS,
    standardize: bool | None = None,
    study: str = STUDY,
) -> list[dict]:
    """The whole real-data study on a bundled data set; returns long-format rows.

    ``dataset`` is one of ``REAL_DATASETS``. ``ks`` defaults to :func:`default_ks`; ``seeds``
    is a count (seeds 0..n-1) or the seeds themselves. ``two_view`` (default: only for
    digits) adds the CLIP comparison on :func:`~contrastive_gmm.load_digits_views` ``(views)``
    at ``two_view_ks`` (default K - 1). ``n_samples`` takes a stratified subset first (for
    quick runs). ``standardize`` defaults to True for wine and breast cancer (features in
    different units) and False for digits (one unit; standardising pixels that are almost
    always 0 inflates them, and InfoNCE's held-out NMI fell from 0.91 to 0.69). Rows: ``study, setting, method, seed, metric, value, dataset, k, delta,
    fit_seconds``; settings are ``"<dataset> k=<k> delta=<delta>"`` (two-view:
    ``"<dataset>-views k=<k> delta=0"``).

    Examples
    --------
    >>> rows = run_real_data_study("wine", ks=[2], deltas=[0.0], seeds=1, methods=["LDA (labels)", "raw features"])
    >>> sorted({(r["setting"], r["method"]) for r in rows})
    [('wine k=2 delta=0', 'LDA (labels)'), ('wine k=2 delta=0', 'raw features')]
    """
    check_choice(dataset, "dataset", REAL_DATASETS)
    seed_list = list(range(check_positive_int(seeds, "seeds"))) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if not seed_list:
        raise ValueError("seeds must name at least one seed.")
    X, y = load_real_dataset(dataset)
    K = len(np.unique(y))
    ks = default_ks(K, X.shape[1]) if ks is None else tuple(ks)
    two_view = check_two_view(dataset, two_view)
    standardize = default_standardize(dataset) if standardize is None else bool(standardize)
    if two_view:
        X1, X2, yv = load_digits_views(views)
    rows: list[dict] = []
    for seed in seed_list:
        keep = _stratified_subset(X.shape[0], y, n_samples, seed)
        rows += evaluate_single_view(
            X[keep], y[keep], ks=ks, deltas=deltas, seed=seed, test_size=test_size, n_pairs_per_sample=n_pairs_per_sample,
            variance=variance, methods=methods, standardize=standardize, dataset=dataset, study=study,
        )
        if two_view:
            for k in two_view_ks or (K - 1,):
                rows += evaluate_two_view(
                    X1[keep], X2[keep], yv[keep], k=k, seed=seed, test_size=test_size, n_pairs_per_sample=n_pairs_per_sample,
                    variance=variance, methods=two_view_methods, standardize=standardize, dataset=f"{dataset}-views", study=study,
                )
    return rows


def summarise(rows: Iterable[dict]) -> dict[tuple[str, str, str], tuple[float, float, int]]:
    """``(setting, method, metric) -> (mean, sd, n)`` over seeds (sd with ddof=1; 0 for one seed).

    The report's :func:`~contrastive_gmm.experiments.claims.setting_stats`, for any iterable of rows.
    """
    return setting_stats(list(rows))


def format_table(rows: Sequence[dict], setting: str, metrics: Sequence[str] = SCORES, fmt: str = "{:.3f}") -> str:
    """A markdown table for one setting: a line per method, ``mean ± sd`` over seeds per metric."""
    summary = summarise(r for r in rows if r["setting"] == setting)
    methods = list(dict.fromkeys(r["method"] for r in rows if r["setting"] == setting))
    if not methods:
        raise ValueError(f"setting {setting!r} has no rows; settings here: {sorted({r['setting'] for r in rows})}.")
    lines = ["| method | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    for m in methods:
        cells = []
        for metric in metrics:
            if (setting, m, metric) in summary:
                mean, sd, _ = summary[(setting, m, metric)]
                cells.append(f"{fmt.format(mean)} ± {fmt.format(sd)}")
            else:
                cells.append("—")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_metric_vs_delta(
    rows: Sequence[dict],
    path: str | os.PathLike,
    *,
    metric: str = "nmi",
    dataset: str | None = None,
    k: int | None = None,
    method: str = "InfoNCE",
    references: Sequence[str] = ("LDA (labels)", "PCA"),
) -> Path:
    """Write a PNG: ``metric`` of ``method`` against delta (mean ± sd over seeds), references as horizontal lines.

    ``dataset`` and ``k`` default to the first ones among the rows that have ``method``.
    Uses matplotlib's Agg canvas directly (no pyplot, no global backend change).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mine = [r for r in rows if r["method"] == method and r["metric"] == metric]
    if not mine:
        raise ValueError(f"no rows for method {method!r} and metric {metric!r}.")
    dataset = dataset or mine[0]["dataset"]
    k = k or mine[0]["k"]
    chosen = [r for r in rows if r["dataset"] == dataset and r["k"] == k and r["metric"] == metric]
    fig = Figure(figsize=(5.5, 3.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    deltas = sorted({r["delta"] for r in chosen if r["method"] == method})
    values = [[r["value"] for r in chosen if r["method"] == method and r["delta"] == d] for d in deltas]
    ax.errorbar(deltas, [np.mean(v) for v in values], yerr=[np.std(v) for v in values], marker="o", capsize=3, label=method, color="C0")
    for i, ref in enumerate(references):
        ref_values = [r["value"] for r in chosen if r["method"] == ref]
        if ref_values:
            ax.axhline(float(np.mean(ref_values)), linestyle="--", color=f"C{i + 1}", label=ref)
    ax.set_xlabel("δ (fraction of partners drawn from any class)")
    ax.set_ylabel(f"held-out k-means {metric.upper() if metric != 'accuracy' else metric}" if metric in ("nmi", "ari", "accuracy") else metric)
    ax.set_title(f"{dataset}, k = {k}")
    ax.legend(frameon=False)
    fig.tight_layout()
    out = Path(os.fspath(path))
    fig.savefig(out, dpi=120)
    return out


# ---------------------------------------------------------------------------- the study kind
METRICS: dict[str, str] = {
    "nmi": "held-out k-means NMI",
    "ari": "held-out k-means ARI",
    "accuracy": "held-out k-means accuracy",
    "probe_accuracy": "held-out linear-probe accuracy",
    **{f"{m}_view{v}": f"{m} (view {v})" for v in (1, 2) for m in SCORES},
    "retrieval_top1": "cross-view retrieval top-1 (exact partner)",
    "retrieval_same_class_top1": "cross-view top-1 has the same class",
}

_DEFAULT_METHODS = ["InfoNCE", "pair CCA", "LDA (labels)", "PCA", "raw features"]
_DEFAULT_TWO_VIEW_METHODS = ["CLIP (same class)", "CLIP (same object)", "PCA (per view)", "LDA (per view, labels)"]


@functools.lru_cache(maxsize=None)
def _shape(dataset: str) -> tuple[int, int]:
    # expand() runs at every validation; the bundled files never change within a process.
    X, y = load_real_dataset(dataset)
    return len(np.unique(y)), X.shape[1]


class RealDataStudy(StudySpec):
    """Spec of a ``real_data`` study: a bundled data set, the k and delta it sweeps, the methods.

    ``ks`` defaults to :func:`~contrastive_gmm.experiments.real_data.default_ks` (K - 1, half and twice it);
    ``two_view`` (default: digits only) adds CLIP across ``views`` at ``two_view_ks`` (default
    K - 1); ``n_samples`` takes a stratified subset per replicate; ``standardize`` defaults to
    True except for digits (see :mod:`contrastive_gmm.embedding`).
    """

    kind: Literal["real_data"]
    dataset: Literal[REAL_DATASETS] = "digits"  # type: ignore[valid-type]
    ks: Optional[list[int]] = Field(None, min_length=1)
    deltas: list[float] = Field([0.0, 0.3], min_length=1)
    methods: list[Annotated[str, AfterValidator(check_single_view_method)]] = list(_DEFAULT_METHODS)
    two_view: Optional[bool] = None
    two_view_ks: Optional[list[int]] = Field(None, min_length=1)
    two_view_methods: list[Literal[TWO_VIEW_METHODS]] = list(_DEFAULT_TWO_VIEW_METHODS)  # type: ignore[valid-type]
    views: Literal[DIGIT_VIEWS] = "checkerboard"  # type: ignore[valid-type]
    n_samples: Optional[int] = Field(None, ge=20)
    test_size: float = Field(0.3, gt=0, lt=1)
    n_pairs_per_sample: int = Field(N_PAIRS_PER_SAMPLE, ge=1)
    variance: float = Field(PREPROCESS_VARIANCE, gt=0, le=1)
    standardize: Optional[bool] = None
    metrics: list[Literal[tuple(METRICS)]] = ["nmi", "probe_accuracy"]  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _check_ranges(cls, data: Any) -> Any:
        # Field-level messages for list items, which pydantic's constraints would name by index only.
        if isinstance(data, dict):
            for field, lo, hi in (("deltas", 0.0, 1.0), ("ks", 1, None), ("two_view_ks", 1, None)):
                values = data.get(field)
                for i, v in enumerate(values if isinstance(values, (list, tuple)) else ()):  # pydantic reports other types
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and (v < lo or (hi is not None and v > hi)):
                        span = f"in [{lo:g}, {hi:g}]" if hi is not None else f">= {lo}"
                        raise ValueError(f"{field}.{i}: must be {span}; got {v!r}")
        return data

    @property
    def runs_two_view(self) -> bool:
        """Whether the study has the two-view settings (digits only)."""
        return check_two_view(self.dataset, self.two_view)

    def run_identity(self) -> dict[str, Any]:
        """Methods and the seeding scheme (every setting's params carry the protocol's options)."""
        return {"methods": list(self.methods), "two_view_methods": list(self.two_view_methods),
                "common_random_numbers": self.common_random_numbers}

    def method_names(self) -> list[str]:
        return list(self.methods) + (list(self.two_view_methods) if self.runs_two_view else [])

    def metric_names(self) -> list[str]:
        return list(METRICS)

    def x_name(self, panel: str) -> str:
        """Single-view panels sweep δ."""
        return "k" if panel == "two views" else "δ"

    def expand(self) -> list[StudySetting]:
        """A panel per k (x = delta), then the two-view panel (a bar per k)."""
        n_classes, n_features = _shape(self.dataset)
        common = {
            "dataset": self.dataset, "n_samples": self.n_samples, "test_size": self.test_size,
            "n_pairs_per_sample": self.n_pairs_per_sample, "variance": self.variance,
            "standardize": default_standardize(self.dataset) if self.standardize is None else self.standardize,
        }
        out = []
        for k in self.ks or default_ks(n_classes, n_features):
            panel = f"{self.dataset}, k = {k}"
            for delta in self.deltas:
                label = f"{self.dataset} k={k} delta={delta:g}"
                out.append(StudySetting(label, panel, float(delta), {**common, "k": int(k), "delta": float(delta)}))
        if self.runs_two_view:
            for k in self.two_view_ks or (n_classes - 1,):
                out.append(StudySetting(f"{self.dataset}-views k={k}", "two views", f"k={k}",
                                        {**common, "k": int(k), "two_view": True, "views": self.views}))
        return out


def run_real_data(spec: RealDataStudy, setting: StudySetting, seeds: np.random.SeedSequence) -> list[dict]:
    """One seed of the protocol at one setting; rows ``{"method", "metric", "value", "fit_seconds"}``."""
    p = setting.params
    # One integer seed drives the subset, the split, the partners, the learners and k-means.
    seed = learner_seed(seeds)
    options = dict(seed=seed, test_size=p["test_size"], n_pairs_per_sample=p["n_pairs_per_sample"],
                   variance=p["variance"], standardize=p["standardize"])
    if p.get("two_view"):
        X1, X2, y = load_digits_views(p["views"])
        keep = _stratified_subset(len(y), y, p["n_samples"], seed)
        rows = evaluate_two_view(X1[keep], X2[keep], y[keep], k=p["k"], methods=spec.two_view_methods, **options)
        # Mean of the two views under the single-view names, so one figure row holds both panels.
        for method in dict.fromkeys(r["method"] for r in rows):
            mine = {r["metric"]: r for r in rows if r["method"] == method}
            for m in SCORES:
                a, b = mine[f"{m}_view1"], mine[f"{m}_view2"]
                rows.append({**a, "metric": m, "value": (a["value"] + b["value"]) / 2})
    else:
        X, y = load_real_dataset(p["dataset"])
        keep = _stratified_subset(len(y), y, p["n_samples"], seed)
        rows = evaluate_single_view(X[keep], y[keep], ks=[p["k"]], deltas=[p["delta"]], methods=spec.methods, **options)
    return rows  # the engine keeps the columns it records


def plot_real_data(spec: RealDataStudy, rows: list[dict], path: Path) -> None:
    """Held-out metrics against delta per k (references flat), and the two-view bars."""
    settings = spec.expand()
    delta_panels = {s.panel for s in settings if not s.params.get("two_view")}
    plot_panels(settings, rows, path, title=spec.title, metrics=spec.metrics, metric_labels=METRICS,
                panel_titles={"two views": "CLIP across two views (mean of the views)"},
                x_labels=dict.fromkeys(delta_panels, "δ (fraction of partners from any class)"))


register_kind("real_data", RealDataStudy, run_real_data, plot_real_data)


__all__ = [
    "SINGLE_VIEW_METHODS",
    "TWO_VIEW_METHODS",
    "evaluate_single_view",
    "evaluate_two_view",
    "default_ks",
    "run_real_data_study",
    "summarise",
    "format_table",
    "plot_metric_vs_delta",
    "METRICS",
    "RealDataStudy",
    "run_real_data",
    "plot_real_data",
]
