"""The real-data protocol: its linear building blocks, fit_embedding, long-format rows, the figure.

Small subsets and one seed keep this fast; benchmarks/real_data.py does the full numbers.
"""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import contrastive_gmm as cg
from contrastive_gmm.model_io import LinearMap
from contrastive_gmm.experiments.real_data import SCORES, SINGLE_VIEW_METHODS, evaluate_single_view, evaluate_two_view, plot_metric_vs_delta, run_real_data_study
from contrastive_gmm.embedding import compose, describe_preprocessing, fit_embedding, needs_standardizing, pca_preprocessor, standardizer
from contrastive_gmm.experiments.real_data import format_table, summarise


@pytest.fixture(scope="module")
def wine():
    return cg.load_real_dataset("wine")


def test_compose_equals_applying_both_maps():
    rng = np.random.default_rng(0)
    inner = LinearMap(rng.normal(size=5), rng.normal(size=(3, 5)))
    outer = LinearMap(rng.normal(size=3), rng.normal(size=(2, 3)))
    X = rng.normal(size=(10, 5))
    np.testing.assert_allclose(compose(outer, inner).transform(X), outer.transform(inner.transform(X)), atol=1e-10)
    with pytest.raises(ValueError, match="outer expects 3 inputs but inner gives 2"):
        compose(outer, LinearMap(np.zeros(5), np.ones((2, 5))))


def test_preprocessor_keeps_the_variance_and_drops_constant_pixels():
    X, _ = cg.load_real_dataset("digits")
    pre = pca_preprocessor(X, 0.99)
    np.testing.assert_allclose(pre.components_ @ pre.components_.T, np.eye(pre.n_components), atol=1e-10)
    kept = pre.transform(X).var(axis=0).sum() / X.var(axis=0).sum()
    # As few directions as keep 99%: scikit-learn's PCA spectrum of the same pixels says how many.
    ratios = np.cumsum(PCA().fit(X).explained_variance_ratio_)
    assert 0.99 <= kept and pre.n_components == int(np.searchsorted(ratios, 0.99) + 1)
    everything = pca_preprocessor(X, 1.0)
    assert everything.n_components == 61  # digits has 3 pixels that are 0 in every image
    with pytest.raises(ValueError, match="variance must be > 0"):
        pca_preprocessor(X, 0.0)
    with pytest.raises(ValueError, match="zero variance"):
        pca_preprocessor(np.ones((5, 3)))


def test_standardizer_and_pair_whitening():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3)) * [1.0, 100.0, 0.0]
    Z = standardizer(X).transform(X)
    np.testing.assert_allclose(Z.std(axis=0), [1.0, 1.0, 0.0], atol=1e-12)
    A = rng.normal(size=(400, 3))
    B = A + rng.normal(size=(400, 3)) @ np.diag([0.1, 1.0, 3.0])
    W, mean = cg.pair_whitening(A, B)
    np.testing.assert_allclose(np.cov(((A - B) @ W).T) / 2, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(mean, A.mean(axis=0))


def test_fit_embedding_lda_is_sklearn_lda_after_the_preprocessing(wine):
    X, y = wine
    emb = fit_embedding("lda", X, y=y, n_components=2, standardize=True)
    Xs = standardizer(X).transform(X)
    pre = pca_preprocessor(Xs)
    want = LinearDiscriminantAnalysis(n_components=2).fit(pre.transform(Xs), y).transform(pre.transform(Xs))
    np.testing.assert_allclose(emb.transform(X), want, atol=1e-8)
    assert emb.info["standardize"] and emb.info["preprocessing"]["n_kept"] == pre.n_components
    pca = fit_embedding("pca", X, n_components=2, standardize=False)
    np.testing.assert_allclose(pca.transform(X), PCA(2, svd_solver="full").fit(X).transform(X), atol=1e-8)


def test_default_preprocessing_standardises_only_features_in_different_units(wine):
    X, y = wine
    # Raw wine: a 0.99 variance budget keeps 1 direction (proline); standardised, 12 of 13.
    assert needs_standardizing(X) == (True, 1, 12)
    emb = fit_embedding("lda", X, y=y, n_components=2, feature_names=[f"f{j}" for j in range(13)])
    assert emb.info["standardize"] is True and emb.info["preprocessing"]["standardize"] == "auto"
    assert emb.info["preprocessing"]["n_kept"] == 12 and emb.feature_names_in_.tolist()[:2] == ["f0", "f1"]
    assert describe_preprocessing(emb.info) == (
        "standardised the 13 features (their scales differ: raw units would keep 1 direction, unit scale 12); "
        "PCA kept 12 directions (99% of the variance)"
    )
    np.testing.assert_allclose(emb.transform(X), fit_embedding("lda", X, y=y, n_components=2, standardize=True).transform(X), atol=1e-10)
    # Digits' pixels share one unit: the rule keeps them as they are (41 of 64 directions against 54).
    digits, _ = cg.load_real_dataset("digits")
    assert needs_standardizing(digits) == (False, 41, 54)


def test_fit_embedding_infonce_learns_wine_without_labels(wine):
    X, y = wine
    emb = fit_embedding("infonce", X, y=y, n_components=2, standardize=True, random_state=0)
    assert emb.method == "infonce" and emb.info["n_pairs"] == 10 * len(y) and emb.info["pair_whitened"]
    # Same-class pairs only: the embedding separates wine's three cultivars about as well as LDA.
    assert cg.cluster_scores(emb.transform(X), y)["nmi"] > 0.8
    again = fit_embedding("infonce", X, y=y, n_components=2, standardize=True, random_state=0)
    np.testing.assert_allclose(again.transform(X), emb.transform(X))  # seeded: pairs and initialisation


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(method="lda", n_components=2), "lda needs labels"),
        (dict(method="infonce", n_components=2), "infonce needs positives"),
        (dict(method="clip", n_components=2), "clip needs a second view"),
        (dict(method="infonce", n_components=2, pairs=[[0, 1]], delta=0.2), "delta applies to pairs built from labels"),
        (dict(method="infonce", n_components=5, y=np.repeat([0, 1, 2], 60)[:178], standardize=False), "more than the 1 directions kept by preprocessing"),
        (dict(method="lda", n_components=3, y=np.repeat([0, 1, 2], 60)[:178], option_names={"n_components": "-k"}), "^-k=3 is more than the 2"),
        (dict(method="lda", n_components=2, y=np.repeat([0, 1, 2], 60)[:178], standardize="yes"), "standardize must be True, False or 'auto'"),
        (dict(method="lda", n_components=2, y=np.repeat([0, 1, 2], 60)[:178], feature_names=["a"]), "feature_names must name each of the 13"),
        (dict(method="lda", n_components=3, y=np.repeat([0, 1, 2], 60)[:178], standardize=True), "more than the 2 directions LDA"),
        (dict(method="tsne", n_components=2), "method must be one of"),
    ],
)
def test_fit_embedding_errors(wine, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_embedding(X=wine[0], **kwargs)


def test_one_dimensional_infonce_warns(wine):
    X, y = wine
    keep = y < 2  # two classes
    with pytest.warns(UserWarning, match="cosine similarity of 1-D embeddings is only their sign"):
        fit_embedding("infonce", X[keep], y=y[keep], n_components=1, standardize=True, n_pairs_per_sample=1, random_state=0)


def test_single_view_protocol_rows_and_claims(wine):
    X, y = wine
    rows = evaluate_single_view(X, y, ks=[2], deltas=[0.0, 0.3], seed=0, standardize=True, dataset="wine")
    assert len(rows) == 2 * len(SINGLE_VIEW_METHODS) * len(SCORES)
    assert {tuple(sorted(r)) for r in rows} == {("dataset", "delta", "fit_seconds", "k", "method", "metric", "seed", "setting", "study", "value")}
    assert {r["setting"] for r in rows} == {"wine k=2 delta=0", "wine k=2 delta=0.3"}
    value = {(r["delta"], r["method"], r["metric"]): r["value"] for r in rows}
    for (delta, method, metric), v in value.items():
        assert -1 <= v <= 1 and (metric == "ari" or v >= 0)
        if method in ("LDA (labels)", "PCA", "raw features"):  # fitted once, repeated under every delta
            assert v == value[(0.0, method, metric)]
    assert value[(0.0, "InfoNCE", "nmi")] > value[(0.0, "LDA (labels)", "nmi")] - 0.1
    assert value[(0.0, "InfoNCE", "probe_accuracy")] > 0.85


def test_digits_subset_infonce_beats_pca_and_nears_lda():
    X, y = cg.load_real_dataset("digits")
    keep = np.sort(np.random.default_rng(0).permutation(len(y))[:700])
    rows = evaluate_single_view(X[keep], y[keep], ks=[9], seed=0, methods=["InfoNCE", "LDA (labels)", "PCA"], dataset="digits")
    nmi = {r["method"]: r["value"] for r in rows if r["metric"] == "nmi"}
    assert nmi["InfoNCE"] > nmi["PCA"] + 0.05
    assert nmi["InfoNCE"] > nmi["LDA (labels)"] - 0.08  # 490 training digits; the benchmark checks 0.03 on all of them


def test_two_view_protocol_on_a_digits_subset():
    X1, X2, y = cg.load_digits_views()
    keep = np.sort(np.random.default_rng(1).permutation(len(y))[:500])
    rows = evaluate_two_view(
        X1[keep], X2[keep], y[keep], k=9, seed=0, n_pairs_per_sample=2,
        methods=["CLIP (same class)", "PCA (per view)"], dataset="digits-views",
    )
    value = {(r["method"], r["metric"]): r["value"] for r in rows}
    assert {m for m, _ in value} == {"CLIP (same class)", "PCA (per view)"}
    assert 0.3 < value[("CLIP (same class)", "retrieval_same_class_top1")] <= 1  # chance is ~0.1
    # The exact partner (the other half of the same digit) among 150 held-out digits: chance 1/150.
    # Same-class pairs teach class, yet the halves share the digit's style (0.20 measured); and an
    # exact match is a same-class match, so it can never beat the same-class rate.
    exact = value[("CLIP (same class)", "retrieval_top1")]
    assert 10 / 150 < exact <= value[("CLIP (same class)", "retrieval_same_class_top1")]
    assert ("PCA (per view)", "retrieval_top1") not in value  # PCA's two views share no space
    for v in (1, 2):
        assert value[("CLIP (same class)", f"nmi_view{v}")] > 0.4


def test_study_rows_tables_and_figure(tmp_path):
    rows = run_real_data_study("wine", ks=[2], deltas=[0.0], seeds=[3, 4], methods=["LDA (labels)", "PCA"])
    assert {r["seed"] for r in rows} == {3, 4} and {r["study"] for r in rows} == {"real_data"}
    summary = summarise(rows)
    mean, sd, n = summary[("wine k=2 delta=0", "LDA (labels)", "nmi")]
    values = [r["value"] for r in rows if r["method"] == "LDA (labels)" and r["metric"] == "nmi"]
    assert n == 2 and mean == pytest.approx(np.mean(values)) and sd == pytest.approx(np.std(values, ddof=1))
    table = format_table(rows, "wine k=2 delta=0")
    assert table.splitlines()[0] == "| method | nmi | ari | accuracy | probe_accuracy |" and "| LDA (labels) | " in table
    with pytest.raises(ValueError, match="has no rows"):
        format_table(rows, "nope")
    with pytest.raises(ValueError, match="two_view needs a two-view data set"):
        run_real_data_study("wine", two_view=True, seeds=1)
    # The figure from synthetic rows: InfoNCE against delta, references as lines.
    fake = [
        {"dataset": "d", "k": 2, "delta": d, "method": m, "metric": "nmi", "value": v + 0.01 * s, "seed": s}
        for s in range(3) for d in (0.0, 0.2, 0.4) for m, v in (("InfoNCE", 0.9 - d / 2), ("LDA (labels)", 0.9), ("PCA", 0.5))
    ]
    path = plot_metric_vs_delta(fake, tmp_path / "fig.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
