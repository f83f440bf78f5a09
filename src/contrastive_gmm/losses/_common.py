"""What every loss shares: the similarity choices, input checks, and the compute dtype."""

from __future__ import annotations

import numbers
from typing import Callable

import torch
import torch.nn.functional as F

from contrastive_gmm._validation import InputTypeError, check_positive

#: A loss as the trainers call it: embeddings (and parameters) in, a scalar tensor out.
LossFn = Callable[..., torch.Tensor]


def _compute_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """float64 if any input is float64, else float32 (half precision is upcast for the softmax)."""
    return torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32


def _embed(x: torch.Tensor, similarity: str, dtype: torch.dtype) -> torch.Tensor:
    x = x.to(dtype)
    return F.normalize(x, dim=1) if similarity == "cosine" else x


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    """Row-paired real embeddings: tensors, 2-D, equal shapes, at least one row, finite."""
    for name, t in (("a", a), ("b", b)):
        if not isinstance(t, torch.Tensor):
            raise InputTypeError(f"{name} must be a torch.Tensor of embeddings (n, k); got {type(t).__name__} (use torch.as_tensor).")
        if t.is_complex() or t.dtype == torch.bool:
            raise InputTypeError(f"{name} must hold real numbers; got dtype {t.dtype} (complex or bool).")
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"a and b must be 2-D with equal shapes (n, k); got {tuple(a.shape)} and {tuple(b.shape)}.")
    if a.shape[0] < 1:
        raise ValueError("a and b must hold at least one row (pair); got 0 rows.")


def _finite_inputs(loss: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return ``loss``; ValueError naming ``a`` or ``b`` when a NaN or infinite embedding made it non-finite.

    Non-finite inputs always give a non-finite loss, so only the scalar loss is checked on the
    common path: one host sync, which a training loop makes anyway to read the loss. A
    non-finite loss from finite inputs (overflow) is returned for the caller to handle.
    """
    if not bool(torch.isfinite(loss.detach())):
        for name, t in (("a", a), ("b", b)):
            if not bool(torch.isfinite(t).all()):
                raise ValueError(f"{name} must be finite but contains NaN or infinity; check the model's inputs and learning rate.")
    return loss


def check_chunk_size(chunk_size: int | None) -> int | None:
    """Return ``chunk_size`` as an int >= 1, or None (no chunking); ValueError otherwise."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise InputTypeError(f"chunk_size must be None or an integer >= 1; got {chunk_size!r} ({type(chunk_size).__name__}).")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be None or an integer >= 1; got {chunk_size}.")
    return int(chunk_size)


def _inverse_temperature(temperature: float | torch.Tensor) -> float | torch.Tensor:
    """``1 / temperature``; a tensor temperature (a learnable one) keeps its gradient."""
    if isinstance(temperature, torch.Tensor):
        if temperature.numel() != 1:
            raise ValueError(f"temperature must be a scalar; got a tensor of shape {tuple(temperature.shape)}.")
        return 1.0 / temperature.reshape(())
    return 1.0 / check_positive(temperature, "temperature")




def batch_standardise(z: torch.Tensor) -> torch.Tensor:
    """Each column centred and scaled to unit variance over the batch (a BatchNorm without affine weights).

    >>> [round(v, 5) for v in batch_standardise(torch.tensor([[1.0], [3.0]])).flatten().tolist()]
    [-0.70711, 0.70711]
    """
    return (z - z.mean(0)) / (z.std(0) + 1e-6)


__all__ = ["LossFn", "check_chunk_size", "batch_standardise"]
