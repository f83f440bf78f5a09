"""Model files written by release 0.1.0 must keep loading and computing the same embedding.

``tests/data/models/`` holds files ``save_model`` wrote in this release (format version 1): a
single-view InfoNCE map fitted by the ``cgmm fit`` recipe on wine (with its feature names and
preprocessing composed in) and a two-view CLIP map on the digits views, plus the inputs and the
outputs they produced. A later release that changes the format must still read these. Regenerate
only on purpose, and only for a new file next to these: ``python tests/test_model_files_stored.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import contrastive_gmm as cg

MODELS = Path(__file__).parent / "data" / "models"


def _write() -> None:  # pragma: no cover - run by hand, see the module docstring
    X, y = cg.load_real_dataset("wine")
    emb = cg.fit_embedding("infonce", X, y=y, n_components=2, standardize=True, random_state=0,
                           feature_names=[f"f{j}" for j in range(X.shape[1])])
    cg.save_model(emb, MODELS / "infonce_wine_v1.npz")
    X1, X2, _ = cg.load_digits_views()
    clip = cg.CLIP(3, random_state=0).fit(X1[:400], X2[:400])
    cg.save_model(clip, MODELS / "clip_digits_views_v1.npz")
    A, B = X1[400:420], X2[400:420]
    za, zb = clip.transform(A, B)
    np.savez(MODELS / "expected_v1.npz", wine_X=X[:20], wine_Z=emb.transform(X[:20]), views_A=A, views_B=B, views_ZA=za, views_ZB=zb)


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    with np.load(MODELS / "expected_v1.npz") as f:
        return dict(f)


def test_a_single_view_file_of_this_release_loads_and_embeds_the_same(expected):
    model = cg.load_model(MODELS / "infonce_wine_v1.npz")
    assert model.method == "infonce" and model.n_components == 2 and model.n_features_in_ == 13
    assert list(model.feature_names_in_) == [f"f{j}" for j in range(13)]
    # Same arithmetic on the same stored floats: equal to rounding (BLAS may sum in another order).
    np.testing.assert_allclose(model.transform(expected["wine_X"]), expected["wine_Z"], rtol=1e-10, atol=1e-10)


def test_a_two_view_file_of_this_release_loads_and_embeds_the_same(expected):
    model = cg.load_model(MODELS / "clip_digits_views_v1.npz")
    assert model.method == "clip"
    za, zb = model.transform(expected["views_A"], expected["views_B"])
    np.testing.assert_allclose(za, expected["views_ZA"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(zb, expected["views_ZB"], rtol=1e-10, atol=1e-10)


if __name__ == "__main__":  # pragma: no cover
    if any(MODELS.glob("*_v1.npz")) and "--force" not in sys.argv:
        sys.exit("tests/data/models already holds release 0.1.0's files; they are the fixture (--force to overwrite)")
    MODELS.mkdir(parents=True, exist_ok=True)
    _write()
