"""Fixtures shared across the suite: the known mixtures the tests measure against, fitted once.

Session-scoped, so a mixture and its samples are drawn once however many test modules use them;
every fixture is seeded, and the tests only read what they return.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import contrastive_gmm as cg
from contrastive_gmm.methods import Method


@pytest.fixture(scope="session")
def fast_options() -> dict[str, int]:
    """Options that make a trained learner's fit short; a test using them checks wiring, not accuracy."""
    return {"max_epochs": 2, "batch_size": 64}


@pytest.fixture(scope="session")
def theory_setting() -> tuple[cg.GMM, np.ndarray, np.ndarray, np.ndarray]:
    """THEORY.md's setting: d = 40, K = 6, non-isotropic (PCA fails on it), n = 20000 pairs."""
    gmm = cg.GMM.random(6, 40, random_state=0)
    X, Xp, z, _ = gmm.sample_pairs(20000, random_state=1)
    return gmm, X, Xp, z


@pytest.fixture(scope="session")
def anisotropic() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A strongly non-isotropic mixture's pairs, its Fisher subspace, and pair CCA's angle to it (the closed form to reach)."""
    gmm = cg.GMM.random(6, 30, anisotropy=30.0, random_state=0)
    X, Xp, _, _ = gmm.sample_pairs(10000, random_state=1)
    F = gmm.fisher_subspace()
    return X, Xp, F, float(cg.subspace_angles(cg.PairCCA(5).fit(X, Xp).subspace(), F).max())


@pytest.fixture(scope="session")
def small_data() -> tuple[np.ndarray, ...]:
    """Small pairs (X, X_pos, labels) and two views (A, B): every method's inputs, fast to fit."""
    gmm = cg.GMM.random(3, 8, random_state=0)
    X, Xp, z, _ = gmm.sample_pairs(300, random_state=1)
    mm = cg.MultimodalGMM.random(3, 6, 5, random_state=0)
    A, B, _ = mm.sample(300, random_state=1)
    return X, Xp, z, A, B


@pytest.fixture(scope="session")
def fit_as_registered() -> Callable[[Method, object, tuple[np.ndarray, ...]], object]:
    """Fit ``model`` on ``small_data`` the way the registry says its method is fed (pairs, labels, features or two views)."""

    def fit(method: Method, model: object, data: tuple[np.ndarray, ...]) -> object:
        X, Xp, z, A, B = data
        args = {"pairs": (X, Xp), "labels": (X, z), "features": (X,), "two_views": (A, B)}[method.inputs]
        return model.fit(*args)

    return fit
