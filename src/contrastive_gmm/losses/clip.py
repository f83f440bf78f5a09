"""The symmetric CLIP loss (Radford et al. 2021) with its learnable logit scale; the logit-scale clamp lives here only."""

from __future__ import annotations

import math

import torch
from torch import nn

from contrastive_gmm import distributed
from contrastive_gmm._validation import SIMILARITIES, check_choice, check_positive
from contrastive_gmm.losses._common import (
    _check_pair,
    _compute_dtype,
    _embed,
    _finite_inputs,
    check_chunk_size,
)
from contrastive_gmm.losses.infonce import _contrastive


class CLIPLoss(nn.Module):
    """CLIP's symmetric two-tower loss: ``forward(a, b) -> scalar``, optionally with a learnable temperature.

    Row i of ``a`` (say, image embeddings) and row i of ``b`` (text embeddings) are a pair; the
    loss averages cross-entropy over both directions, as open_clip's ``ClipLoss``.

    Parameters
    ----------
    temperature : float > 0
        The (initial) temperature; the logit scale is ``1 / temperature``.
    learnable_temperature : bool
        Learn the temperature. It is stored as ``logit_scale = log(1 / temperature)`` (a
        parameter) and, as open_clip does, clamped to ``logit_scale <= log(max_logit_scale)``
        before every use, so it cannot run away to a degenerate sharp softmax.
    similarity : {"cosine", "dot"}
        Cosine normalises each embedding first (CLIP's choice).
    gather_distributed, chunk_size
        As in :class:`InfoNCELoss`.
    max_logit_scale : float
        Upper bound on the learnable logit scale (open_clip: 100).

    Attributes
    ----------
    logit_scale : torch.nn.Parameter or None
        ``log(1 / temperature)`` when learnable.

    Examples
    --------
    >>> import torch
    >>> loss = CLIPLoss(temperature=0.07, learnable_temperature=True)
    >>> a, b = torch.randn(16, 8), torch.randn(16, 8)
    >>> value = loss(a, b)
    >>> value.backward()
    >>> loss.logit_scale.grad is not None, round(loss.temperature, 2)
    (True, 0.07)
    """

    def __init__(
        self,
        temperature: float = 0.07,
        learnable_temperature: bool = False,
        similarity: str = "cosine",
        gather_distributed: bool = False,
        chunk_size: int | None = None,
        max_logit_scale: float = 100.0,
    ) -> None:
        super().__init__()
        temperature = check_positive(temperature, "temperature")
        self.max_logit_scale = check_positive(max_logit_scale, "max_logit_scale")
        self.similarity = check_choice(similarity, "similarity", SIMILARITIES)
        self.learnable_temperature = bool(learnable_temperature)
        self.gather_distributed = distributed.check_available(gather_distributed)
        self.chunk_size = check_chunk_size(chunk_size)
        if self.learnable_temperature:
            if 1.0 / temperature > self.max_logit_scale:
                raise ValueError(
                    f"a learnable temperature must start at >= 1 / max_logit_scale = {1 / self.max_logit_scale:g}; "
                    f"got {temperature}."
                )
            self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)))
        else:
            self.register_parameter("logit_scale", None)
            self._temperature = temperature

    @property
    def temperature(self) -> float:
        """The current temperature (``1 / exp(logit_scale)`` when learnable)."""
        if self.logit_scale is None:
            return self._temperature
        return float(1.0 / self.logit_scale.detach().clamp(max=math.log(self.max_logit_scale)).exp())

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Mean symmetric CLIP loss of the batch (of the local rows, with ``gather_distributed``)."""
        _check_pair(a, b)
        if self.logit_scale is None:
            scale: float | torch.Tensor = 1.0 / self._temperature
        else:
            # Clamp the stored value itself (open_clip clamps it after each step): a clamp inside
            # the graph would zero the gradient above the bound and leave the scale stuck there.
            with torch.no_grad():
                self.logit_scale.clamp_(max=math.log(self.max_logit_scale))
            scale = self.logit_scale.exp()
        dtype = _compute_dtype(a, b)
        if isinstance(scale, torch.Tensor):
            scale = scale.to(dtype)
        loss = _contrastive(
            _embed(a, self.similarity, dtype), _embed(b, self.similarity, dtype), scale, True,
            self.chunk_size, self.gather_distributed,
        )
        return _finite_inputs(loss, a, b)

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature:g}, learnable_temperature={self.learnable_temperature}, "
            f"similarity={self.similarity!r}, gather_distributed={self.gather_distributed}, chunk_size={self.chunk_size}"
        )


_MAX_LOGIT_SCALE = 100.0  # open_clip's clamp on exp(logit_scale)


__all__ = ["CLIPLoss"]
