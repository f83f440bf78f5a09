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
