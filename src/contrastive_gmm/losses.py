"""Contrastive losses as small PyTorch modules, usable in any model.

Every loss here is "row i of ``a`` is the positive of row i of ``b``; the other rows of the
batch are negatives", computed through ``cross_entropy`` (a logsumexp), never an explicit
exp of logits, with the softmax in float32 even for half-precision inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_choice, check_positive

SIMILARITIES = ("cosine", "dot")


def similarity_logits(a: torch.Tensor, b: torch.Tensor, temperature: float, similarity: str = "cosine") -> torch.Tensor:
    """Return the (n, n) logit matrix sim(a_i, b_j) / temperature in float32 (or float64 inputs' dtype)."""
    dtype = torch.float64 if a.dtype == torch.float64 else torch.float32
    a, b = a.to(dtype), b.to(dtype)
    if similarity == "cosine":
        a = F.normalize(a, dim=1)
        b = F.normalize(b, dim=1)
    return (a @ b.T) / temperature


def info_nce(
    a: torch.Tensor,
    b: torch.Tensor,
    temperature: float = 0.5,
    similarity: str = "cosine",
    symmetric: bool = True,
) -> torch.Tensor:
    """InfoNCE with in-batch negatives: mean over i of -log softmax_j(sim(a_i, b_j)/tau)[i].

    ``symmetric=True`` averages the a->b and b->a directions (as CLIP does).

    Examples
    --------
    >>> import torch
    >>> z = torch.eye(4)
    >>> round(float(info_nce(z, z, temperature=1.0)), 4)  # log(3 e^0 + e^1) - 1
    0.7437
    """
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"a and b must be 2-D with equal shapes; got {tuple(a.shape)} and {tuple(b.shape)}.")
    logits = similarity_logits(a, b, temperature, similarity)
    labels = torch.arange(a.shape[0], device=a.device)
    loss = F.cross_entropy(logits, labels)
    if symmetric:
        loss = 0.5 * (loss + F.cross_entropy(logits.T, labels))
    return loss


class InfoNCELoss(nn.Module):
    """InfoNCE / NT-Xent-style loss on row-paired embeddings: ``forward(a, b) -> scalar``.

    Parameters
    ----------
    temperature : float > 0
        Divides the similarities before the softmax.
    similarity : {"cosine", "dot"}
        Cosine normalises each embedding first; dot uses raw inner products.
    symmetric : bool
        Average the a->b and b->a directions.

    Examples
    --------
    >>> import torch
    >>> loss = InfoNCELoss(temperature=0.5)
    >>> a = torch.randn(8, 3)
    >>> bool(loss(a, a) < loss(a, torch.randn(8, 3)))
    True
    """

    def __init__(self, temperature: float = 0.5, similarity: str = "cosine", symmetric: bool = True) -> None:
        super().__init__()
        self.temperature = check_positive(temperature, "temperature")
        self.similarity = check_choice(similarity, "similarity", SIMILARITIES)
        self.symmetric = bool(symmetric)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Mean InfoNCE loss of the batch."""
        return info_nce(a, b, self.temperature, self.similarity, self.symmetric)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, similarity={self.similarity!r}, symmetric={self.symmetric}"


__all__ = ["info_nce", "similarity_logits", "InfoNCELoss", "SIMILARITIES"]
