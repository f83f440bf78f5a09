"""The InfoNCE loss against a numpy float64 logsumexp reference."""

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

import contrastive_gmm as cg


def reference_info_nce(a, b, temperature, similarity, symmetric):
    """Naive float64 InfoNCE: -mean_i [s_ii - logsumexp_j s_ij], optionally averaged with the transpose."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if similarity == "cosine":
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
    S = a @ b.T / temperature
    row = np.mean(logsumexp(S, axis=1) - np.diag(S))
    if not symmetric:
        return row
    col = np.mean(logsumexp(S, axis=0) - np.diag(S))
    return (row + col) / 2


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("temperature", [1e-3, 0.1, 2.0, 1e3])
def test_info_nce_matches_float64_reference(similarity, symmetric, temperature):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 5)), rng.standard_normal((64, 5))
    ref = reference_info_nce(a, b, temperature, similarity, symmetric)
    got = cg.info_nce(torch.tensor(a), torch.tensor(b), temperature, similarity, symmetric)
    assert got.dtype == torch.float64
    assert abs(float(got) - ref) <= 1e-6 * max(1.0, abs(ref))
    got32 = cg.info_nce(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32), temperature, similarity, symmetric)
    assert np.isfinite(float(got32))
    assert abs(float(got32) - ref) <= 1e-5 * max(1.0, abs(ref))


def test_known_values():
    # Identical orthogonal embeddings: each row sees e^{1/t} against n-1 terms e^0.
    n, t = 8, 0.5
    z = torch.eye(n, dtype=torch.float64)
    expected = np.log(n - 1 + np.exp(1 / t)) - 1 / t
    assert abs(float(cg.info_nce(z, z, t)) - expected) < 1e-12
    # All embeddings equal: the softmax is uniform, so the loss is log(n).
    ones = torch.ones(n, 3, dtype=torch.float64)
    assert abs(float(cg.info_nce(ones, ones, 0.1)) - np.log(n)) < 1e-12


def test_half_precision_inputs_are_computed_in_float32():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((32, 4)), rng.standard_normal((32, 4))
    ref = reference_info_nce(a, b, 0.01, "cosine", True)
    got = cg.InfoNCELoss(0.01)(torch.tensor(a, dtype=torch.bfloat16), torch.tensor(b, dtype=torch.bfloat16))
    assert got.dtype == torch.float32
    # bfloat16 inputs carry ~3 significant digits; the loss inherits that relative error.
    assert abs(float(got) - ref) < 0.02 * abs(ref)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    a = torch.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    b = torch.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: cg.info_nce(x, y, 0.5, "cosine"), (a, b))


def test_bad_arguments():
    with pytest.raises(ValueError, match="temperature"):
        cg.InfoNCELoss(0.0)
    with pytest.raises(ValueError, match="similarity"):
        cg.InfoNCELoss(similarity="euclid")
    with pytest.raises(ValueError, match="equal shapes"):
        cg.info_nce(torch.zeros(4, 2), torch.zeros(3, 2))
