"""scikit-learn's own estimator checks, on every learner where they apply.

The single-view learners take ``fit(X, y)`` with ``y`` either the positives (X's shape) or class
labels (1-D: same-class pairs), so scikit-learn's checks, which pass labels, apply to them with
their default parameters. The two-view learners (``CCA``, ``PLSSVD``, ``CLIP``, ``SigLIP``) take
``fit(X, y)`` with ``y`` the second view (a 1-D ``y`` is one column, as scikit-learn's CCA reads
it); the checks pass a 1-D ``y``, so they run with ``n_components=1``. ``CCA`` and ``PLSSVD``
pass every check; the checks that fail elsewhere are listed in :func:`expected_failures`, each
with its reason.

Not checked: ``FisherOracle``, which returns a known mixture's Fisher subspace whatever the
data, so it needs a ``GMM`` to be constructed and learns nothing from ``fit``.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import contrastive_gmm as cg

LEARNERS = [
    cg.InfoNCE(),
    cg.PairCCA(),
    cg.SpectralOnMeans(),
    cg.SimCLR(),
    cg.SupCon(),
    cg.SimSiam(),
    cg.SpectralContrastiveLearner(),
    cg.BarlowTwins(),
    cg.VICReg(),
]
# One output column: the checks' y is 1-D, a second view of width 1. The trained ones get a short
# epoch budget: these checks test the API, and the full default budget took 30-50 s per learner.
TWO_VIEW = [cg.CCA(1), cg.PLSSVD(1), cg.CLIP(1, max_epochs=20), cg.SigLIP(1, max_epochs=20)]

_CLOSED_FORMS = (cg.PairCCA, cg.SpectralOnMeans, cg.CCA, cg.PLSSVD)
_WEIGHTS_BY_LABELS = (
    "the checks pass class labels, and same-class partners are drawn at random: a repeated row can be "
    "paired with its own copy, so weights and repeated rows give different pairs (with positives given, "
    "integer weights equal repeated rows to 1e-6 degrees: tests/learners/test_sample_weight.py)"
)
_WEIGHTS_BY_DRAWS = (
    "batches are drawn at random: weighted draws and a shuffle of the repeated rows take different steps, "
    "so the fits agree only within their seed-to-seed spread (tests/learners/test_sample_weight.py)"
)
_PAIR_OUTPUT = (
    "fit_transform(X, y) returns the pair (X scores, y scores), as scikit-learn's CCA does; the check "
    "unpacks that pair only for estimators named as scikit-learn's cross-decomposition classes"
)


def expected_failures(estimator) -> dict[str, str]:
    """The checks that cannot apply to ``estimator``, each with the reason (scikit-learn's ``expected_failed_checks``)."""
    failures = {}
    if not isinstance(estimator, (cg.CCA, cg.PLSSVD)):
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            _WEIGHTS_BY_LABELS if isinstance(estimator, _CLOSED_FORMS) else _WEIGHTS_BY_DRAWS)
    if isinstance(estimator, cg.CLIP):  # SigLIP too
        failures["check_transformer_general"] = _PAIR_OUTPUT
        failures["check_transformer_data_not_an_array"] = _PAIR_OUTPUT
    return failures


# The checks fit on a few dozen random points with no shared structure, where a trained map may
# lose a direction or stay far from the closed form; that is reported (CollapseWarning,
# ClosedFormWarning), and is not what these checks test.
@pytest.mark.filterwarnings("ignore::contrastive_gmm.CollapseWarning")
@pytest.mark.filterwarnings("ignore::contrastive_gmm.ClosedFormWarning")
@parametrize_with_checks(LEARNERS + TWO_VIEW, expected_failed_checks=expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_cca_and_plssvd_pass_every_check_and_the_others_fail_only_the_listed_ones():
    from sklearn.utils.estimator_checks import check_estimator

    for estimator in (cg.CCA(1), cg.PLSSVD(1), *LEARNERS[:2]):
        results = check_estimator(estimator, on_fail=None, expected_failed_checks=expected_failures(estimator))
        failed = {r["check_name"] for r in results if r["status"] == "failed"}
        xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
        assert not failed, (type(estimator).__name__, failed)
        # Each listed failure does fail: a check that starts to pass must leave the list.
        assert xfailed == set(expected_failures(estimator)), (type(estimator).__name__, xfailed)
    assert expected_failures(cg.CCA(1)) == expected_failures(cg.PLSSVD(1)) == {}


def test_two_view_learners_take_scikit_learns_keywords_and_a_one_dimensional_y():
    mm = cg.MultimodalGMM.random(3, 6, 5, random_state=0)
    X, Y, _ = mm.sample(800, random_state=0)
    by_keyword = cg.CCA(2).fit(X=X, y=Y)
    np.testing.assert_array_equal(by_keyword.x_components_, cg.CCA(2).fit(X, Y).x_components_)
    xs, ys = cg.CCA(2).fit_transform(X, y=Y)
    np.testing.assert_allclose(xs, by_keyword.transform(X), rtol=1e-12)
    one = cg.PLSSVD(1).fit(X, Y[:, 0])
    np.testing.assert_array_equal(one.y_components_.shape, (1, 1))
    np.testing.assert_allclose(one.x_components_, cg.PLSSVD(1).fit(X, Y[:, :1]).x_components_, rtol=1e-12)
    assert cg.CLIP(1, max_epochs=2, random_state=0).fit(X, y=Y[:, 0]).n_features_in_ == 6


# One fit per learner on a small mixture: enough for the output's names, type and precision.
_MIXTURE = cg.GMM.random(3, 6, random_state=0)
_X, _X_POS, _LABELS, _ = _MIXTURE.sample_pairs(600, random_state=0)
_TWO_VIEWS = cg.MultimodalGMM.random(3, 6, 5, random_state=0).sample(600, random_state=0)[:2]
_QUICK = {"max_epochs": 3}  # trained learners: the names and dtypes do not depend on how far training went


def _fitted_pipelines(output: str = "pandas"):
    import warnings

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    single = [(type(e), e.set_params(**{k: v for k, v in _QUICK.items() if k in e.get_params()})) for e in LEARNERS]
    two_view = [(cls, cls(2, **(_QUICK if "max_epochs" in cls().get_params() else {}))) for cls in (cg.CCA, cg.PLSSVD, cg.CLIP, cg.SigLIP)]
    for cls, est in single + two_view:
        X, second = (_X, _LABELS if cls is cg.SupCon else _X_POS) if (cls, est) in single else _TWO_VIEWS  # SupCon: labels only
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # three epochs are far from the optimum, as meant
            yield cls, make_pipeline(StandardScaler(), est.set_params(n_components=2)).set_output(transform=output).fit(X, second)


def test_every_learner_names_its_outputs_and_returns_a_dataframe_in_a_pandas_pipeline():
    pd = pytest.importorskip("pandas")
    names = []
    for cls, pipe in _fitted_pipelines():
        X = _TWO_VIEWS[0] if cls in (cg.CCA, cg.PLSSVD, cg.CLIP, cg.SigLIP) else _X
        assert pipe[-1].n_features_in_ == X.shape[1], cls.__name__
        out = pipe.transform(pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]))
        prefix = cls.__name__.lower()
        assert isinstance(out, pd.DataFrame), cls.__name__
        assert list(out.columns) == [f"{prefix}0", f"{prefix}1"], cls.__name__
        assert list(pipe[-1].get_feature_names_out()) == [f"{prefix}0", f"{prefix}1"]
        names.append(cls.__name__)
    assert len(names) == len(LEARNERS) + 4


def test_float32_input_gives_float32_output_equal_to_the_float64_one():
    for cls, pipe in _fitted_pipelines("default"):
        est = pipe[-1]
        X = pipe[0].transform(_X if cls not in (cg.CCA, cg.PLSSVD, cg.CLIP, cg.SigLIP) else _TWO_VIEWS[0])
        low, high = est.transform(X.astype(np.float32)), est.transform(X.astype(np.float64))
        assert low.dtype == np.float32 and high.dtype == np.float64, cls.__name__
        # float32 input carries 2^-24 relative error per entry; the outputs are O(1) sums of 6 such terms.
        np.testing.assert_allclose(low, high, rtol=1e-4, atol=1e-4 * np.abs(high).max(), err_msg=cls.__name__)
