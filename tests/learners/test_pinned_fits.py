"""The fitted maps of the default learners are pinned: a refactor must not change what they learn.

``tests/learners/pinned_fits.npz`` holds the components of default InfoNCE, pair CCA, SimCLR,
SimSiam, CLIP and CCA on fixed small data, saved before the package was re-laid out (issue
13) and saved again when ``GMM.random`` stopped depending on the CPU's LAPACK kernels (the same
seed had drawn another mixture on another machine; see ``simplex_coordinates``), with the
streamed moments of issue 16 checked against the previous code to 2e-14. A move, rename or shared helper that changes a fit by more than floating-point noise
fails here. Regenerate only when a default is changed on purpose:
``python tests/learners/test_pinned_fits.py`` (and say why in the commit).

Tolerance: the closed forms are an eigen-decomposition (agreement to ~1e-12 between BLAS
builds); the trained learners run float64 Adam for a few hundred epochs, where a thread count
or BLAS change moves the last bits and training carries them along (measured: 1 and 2 threads
give identical components on this data). The test allows 1e-6 on the projector onto the learned rows and
1e-6 relative on the components themselves (sign included: the fit fixes it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import contrastive_gmm as cg

PINS = Path(__file__).parent / "pinned_fits.npz"


def _single_view_data() -> tuple[np.ndarray, np.ndarray]:
    gmm = cg.GMM.random(4, 12, anisotropy=3.0, random_state=0)
    X, Xp, _, _ = gmm.sample_pairs(1500, random_state=1)
    return X, Xp


def _two_view_data() -> tuple[np.ndarray, np.ndarray]:
    mm = cg.MultimodalGMM.random(4, 10, 8, n_private_x=2, coincide_y=1, random_state=2)
    X, Y, _ = mm.sample(1500, random_state=3)
    return X, Y


def fits() -> dict[str, np.ndarray]:
    """The components each pinned default learner finds on the fixed data (seed 0 where it trains)."""
    X, Xp = _single_view_data()
    out = {
        "InfoNCE": cg.InfoNCE(3, random_state=0).fit(X, Xp).components_,
        "PairCCA": cg.PairCCA(3).fit(X, Xp).components_,
        "SimCLR": cg.SimCLR(3, random_state=0).fit(X, Xp).components_,
        "SimSiam": cg.SimSiam(3, random_state=0).fit(X, Xp).components_,
    }
    X, Y = _two_view_data()
    for name, model in (("CLIP", cg.CLIP(3, random_state=0)), ("CCA", cg.CCA(3))):
        model.fit(X, Y)
        out[f"{name}_x"], out[f"{name}_y"] = model.x_components_, model.y_components_
    return out


@pytest.fixture(scope="module")
def current() -> dict[str, np.ndarray]:
    return fits()


@pytest.mark.parametrize("name", ["InfoNCE", "PairCCA", "SimCLR", "SimSiam", "CLIP_x", "CLIP_y", "CCA_x", "CCA_y"])
def test_fit_is_unchanged(current: dict[str, np.ndarray], name: str) -> None:
    pinned = np.load(PINS)[name]
    got = current[name]
    assert got.shape == pinned.shape
    # Same subspace ...
    proj = lambda W: W.T @ np.linalg.pinv(W @ W.T) @ W  # noqa: E731 - the projector onto W's rows
    np.testing.assert_allclose(proj(got), proj(pinned), atol=1e-6)
    # ... and the same rows (scale and sign are part of what a user's saved model holds).
    np.testing.assert_allclose(got, pinned, rtol=1e-6, atol=1e-6 * np.abs(pinned).max())


if __name__ == "__main__":  # regenerate the pins (only for a deliberate change of a default)
    PINS.parent.mkdir(exist_ok=True)
    np.savez(PINS, **fits())
    print(f"wrote {PINS}", file=sys.stderr)
