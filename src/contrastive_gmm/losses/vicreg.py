"""VICReg (Bardes, Ponce, LeCun 2022): variance, invariance and covariance terms, no negatives.

``loss = lambda_inv MSE(z_a, z_b) + lambda_var [v(z_a) + v(z_b)] + lambda_cov [c(z_a) + c(z_b)]``
with ``v(z) = mean_j relu(1 - sqrt(Var z_j + eps))`` (each dimension keeps a standard deviation
of at least 1, which prevents collapse) and ``c(z) = sum_{i != j} Cov(z)_ij^2 / k`` (dimensions
decorrelated). Defaults are the paper's 25 / 25 / 1. For a linear map, agreement at unit
variance is best along the directions of largest pair correlation: the pair-CCA subspace.
"""

from __future__ import annotations

import torch
from torch import nn

from contrastive_gmm._validation import check_positive
from contrastive_gmm.losses._common import _check_pair

_EPS = 1e-4  # the paper's epsilon inside the standard deviation


def _variance(z: torch.Tensor) -> torch.Tensor:
    return torch.relu(1.0 - torch.sqrt(z.var(0) + _EPS)).mean()


def _covariance(z: torch.Tensor) -> torch.Tensor:
    zc = z - z.mean(0)
    cov = zc.T @ zc / (z.shape[0] - 1)
    return (cov.pow(2).sum() - torch.diagonal(cov).pow(2).sum()) / z.shape[1]


def vicreg_loss(
    a: torch.Tensor, b: torch.Tensor, lambda_inv: float = 25.0, lambda_var: float = 25.0, lambda_cov: float = 1.0
) -> torch.Tensor:
    """VICReg's loss of two row-paired batches ``a``, ``b`` (B, k).

    Examples
    --------
    >>> a = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    >>> round(float(vicreg_loss(a, a)), 6)  # identical, decorrelated views of std > 1: every term is 0
    0.0
    >>> round(float(vicreg_loss(0 * a, 0 * a)), 2)  # collapsed: the variance term, 25 x 2 x (1 - 0.01)
    49.5
    """
    _check_pair(a, b)
    for name, v in (("lambda_inv", lambda_inv), ("lambda_var", lambda_var), ("lambda_cov", lambda_cov)):
        check_positive(v, name)
    invariance = (a - b).pow(2).sum(1).mean() / a.shape[1]
    return (lambda_inv * invariance + lambda_var * (_variance(a) + _variance(b))
            + lambda_cov * (_covariance(a) + _covariance(b)))


class VICRegLoss(nn.Module):
    """:func:`vicreg_loss` as a module, for a training loop of your own.

    Examples
    --------
    >>> loss = VICRegLoss()
    >>> a = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    >>> bool(loss(a, a) < loss(a, torch.randn(64, 3, generator=torch.Generator().manual_seed(1))))
    True
    """

    def __init__(self, lambda_inv: float = 25.0, lambda_var: float = 25.0, lambda_cov: float = 1.0) -> None:
        super().__init__()
        self.lambda_inv, self.lambda_var, self.lambda_cov = lambda_inv, lambda_var, lambda_cov

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The loss of the row-paired batches ``a`` and ``b``."""
        return vicreg_loss(a, b, self.lambda_inv, self.lambda_var, self.lambda_cov)


__all__ = ["vicreg_loss", "VICRegLoss"]
