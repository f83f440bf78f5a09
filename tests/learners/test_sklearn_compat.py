"""scikit-learn's own estimator checks, on every learner where they apply.

The single-view learners take ``fit(X, y)`` with ``y`` either the positives (X's shape) or class
labels (1-D: same-class pairs), so scikit-learn's checks, which pass labels, apply to them with
their default parameters.

Not checked, and why:

- ``CLIP``, ``SigLIP``, ``CCA``, ``PLSSVD``: ``fit(X, Y)`` takes a second *modality*, an (n, d_y)
  matrix row-paired with X; the checks pass class labels or 1-D targets as ``y``, which are not a
  modality (fitting CLIP to a column of labels would pass shape checks and test nothing).
  ``tests/learners/test_reliability.py`` covers clone, pickle and determinism for them.
- ``FisherOracle``: it returns a known mixture's Fisher subspace whatever the data, so it needs
  a ``GMM`` to be constructed and learns nothing from ``fit``.
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


# The checks fit on a few dozen random points with no shared structure, where a trained map may
# lose a direction; that is reported (CollapseWarning), and is not what these checks test.
@pytest.mark.filterwarnings("ignore::contrastive_gmm.CollapseWarning")
@parametrize_with_checks(LEARNERS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


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
