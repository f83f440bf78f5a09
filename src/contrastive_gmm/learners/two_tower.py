"""Linear CLIP and SigLIP: each modality keeps the part of its Fisher subspace both can see.

One linear map per modality, trained on row-paired views ``(X, Y)`` (row i of ``Y`` is the
positive of row i of ``X``, the other rows negatives). On the mixtures of
:mod:`contrastive_gmm.mixtures.multimodal` (which states the population answers, THEORY.md)
CLIP's target in modality x is ``Cov(x)^{-1} col(Cov(x, y))``, the CCA directions with non-zero
canonical correlation: it lies inside x's Fisher subspace and drops what the other modality
cannot see; the closed forms :class:`~contrastive_gmm.learners.closed_form.CCA` and
:class:`~contrastive_gmm.learners.closed_form.PLSSVD` are the references.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    SIMILARITIES,
    InputTypeError,
    Similarity,
    check_choice,
    check_positive,
)
from contrastive_gmm.learners.base import TwoViewProjection, _check_two_view
from contrastive_gmm.learners.training import (
    BATCH_SIZE,
    LR,
    PATIENCE,
    TOL,
    CollapseWarning,
    _torch_generator,
    _TrainsMaps,
    check_device,
    check_batch_dtype,
    closed_form_share,
    shared_moments,
    training_views,
)
from contrastive_gmm.linalg import (
    REG_AUTO,
    pair_whitened_maps,
    whitener,
)
from contrastive_gmm.moments import moment_regularisation
from contrastive_gmm.losses._common import LossFn
from contrastive_gmm.losses.clip import _MAX_LOGIT_SCALE
from contrastive_gmm.losses.infonce import info_nce_unchecked
from contrastive_gmm.losses.sigmoid import sigmoid_pair_loss

# ---------------------------------------------------------------------------- the mixture


# ---------------------------------------------------------------------------- closed forms


# ---------------------------------------------------------------------------- CLIP


class CLIP(_TrainsMaps, TwoViewProjection):
    """Linear CLIP: one linear map per modality trained with the symmetric contrastive loss.

    Row i of ``X`` and row i of ``Y`` are a positive pair; other rows of the batch are
    negatives in both directions. Each modality is centred and trained in its own whitened
    coordinates (a preconditioning that leaves the optimum over linear maps unchanged), from a
    random start. As for :class:`~contrastive_gmm.InfoNCE`, ``whiten_output=True`` restricts each
    embedding to identity covariance, so no direction can collapse.

    Why dot similarity at temperature 10: on mixtures with private clusters and coinciding
    components (``benchmarks/multimodal.py``), cosine similarity stayed at 1.5-1.7x closed-form
    CCA's angle at every temperature tried (1 to 20), while dot similarity on whitened
    embeddings came within 1.0-1.15x (at temperature 2 it was 1.4-1.6x). With whitened outputs
    the temperature matters for dot similarity: larger values move the loss towards its
    linear (CCA) regime.

    Parameters
    ----------
    n_components : int or "auto"
        Embedding dimension k (at most the smaller width). The population answer has as many
        directions as non-zero canonical correlations.
        ``"auto"``: as many canonical correlations as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_two_view_n_components`), stored in ``n_components_``.
    temperature : float
        Softmax temperature (initial value when ``learnable_temperature``).
    similarity : {"cosine", "dot"}
        Similarity of embeddings.
    learnable_temperature : bool
        Learn ``log(1 / temperature)`` with the maps, clamped at ``1 / temperature <= 100`` as
        open_clip does.
    pair_whiten : bool
        After training, follow both maps by one k x k map under which the difference of a
        pair's embeddings has identity covariance (:func:`pair_whitened_maps`): on same-class
        cross-view digit pairs it lifted held-out NMI from 0.77 / 0.75 to 0.82 / 0.80 in a
        5-seed development run (``benchmarks/real_data_defaults.py`` with today's defaults:
        0.81 / 0.80, per-view LDA 0.83). ``False``: the embeddings as trained.
    whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, distributed, batch_dtype
        As for :class:`~contrastive_gmm.InfoNCE`.

    Attributes
    ----------
    x_components_, y_components_ : (k, dx), (k, dy) arrays
        The learned maps in input coordinates.
    x_mean_, y_mean_ : arrays
        Per-modality means.
    x_singular_values_, y_singular_values_ : (k,) arrays
        Singular values of each map on whitened data.
    effective_rank_ : int
        Directions of the weaker map above 1e-2 x its largest singular value.
    pair_correlations_ : (k,) array
        Canonical correlations between the two embeddings on the training data.
    temperature_ : float
        Final temperature.
    x_shrinkage_, y_shrinkage_ : float
        The Ledoit-Wolf intensity of each view's whitening (0 when ``reg`` is a number).
    closed_form_correlations_ : (k,) array
        The self-check's reference: the canonical correlations of closed-form
        :class:`~contrastive_gmm.CCA` on the same pairs, in the same whitening.
    closed_form_share_ : float
        ``pair_correlations_.sum() / closed_form_correlations_.sum()``; below 0.8 a
        :class:`~contrastive_gmm.ClosedFormWarning` gives both figures.
    n_iter_ : int
        Epochs run.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
    >>> X, Y, z = mm.sample(5000, random_state=0)
    >>> clip = cg.CLIP(3, random_state=0).fit(X, Y)
    >>> Zx, Zy = clip.transform(X, Y)
    >>> bool(cg.subspace_angles(clip.x_subspace(), mm.clip_target(0)).max() < 15)
    True
    """

    collapse_tol: float = 1e-2

    def __init__(
        self,
        n_components: int = 2,
        *,
        temperature: float = 10.0,
        similarity: Similarity = "dot",
        learnable_temperature: bool = False,
        whiten_output: bool = True,
        pair_whiten: bool = True,
        batch_size: int = BATCH_SIZE,
        max_epochs: int | None = None,
        lr: float = LR,
        tol: float = TOL,
        patience: int = PATIENCE,
        reg: float | str = REG_AUTO,
        random_state: int | None = None,
        device: str = "cpu",
        verbose: bool = False,
        distributed: bool = False,
        batch_dtype: str | None = None,
    ) -> None:
        self.distributed = distributed
        self.batch_dtype = batch_dtype
        self.n_components = n_components
        self.temperature = temperature
        self.similarity = similarity
        self.learnable_temperature = learnable_temperature
        self.whiten_output = whiten_output
        self.pair_whiten = pair_whiten
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.tol = tol
        self.patience = patience
        self.reg = reg
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "CLIP":
        """Learn both maps from row-paired views ``X`` (n, dx) and ``y`` (n, dy; 1-D: one column).

        ``sample_weight`` (n,), non-negative: pair i counts ``sample_weight[i]`` times in the
        whitening moments, and each epoch draws its batches' pairs with probability proportional
        to their weight (a weight of 0 leaves the pair out).
        """
        self._check_distributed()
        X, Y, w, k = _check_two_view(X, y, self.n_components, self, sample_weight)
        temperature = check_positive(self.temperature, "temperature")
        similarity = check_choice(self.similarity, "similarity", SIMILARITIES)
        self._check_training_params()
        if self.learnable_temperature and temperature < 1.0 / _MAX_LOGIT_SCALE:
            raise ValueError(f"temperature must be >= {1 / _MAX_LOGIT_SCALE} when learnable (open_clip's clamp); got {temperature}.")
        gen = _torch_generator(self.random_state)
        device = check_device(self.device)
        # Chunk by chunk (no float64 copy of the data); with distributed=True over every process's shard.
        moments = shared_moments(X, Y, w, reg=self.reg, distributed=self._distributed())
        mx, my, Sxx, Syy, Sxy = moments.two_view()
        (rx, self.x_shrinkage_), (ry, self.y_shrinkage_) = (
            moment_regularisation(self.reg, moments, "x", mx, X, w), moment_regularisation(self.reg, moments, "y", my, Y, w))
        Wx, Wy = whitener(Sxx, rx, self.x_shrinkage_), whitener(Syy, ry, self.y_shrinkage_)
        A, B = training_views((X, Y), (mx, my), (Wx, Wy), torch.float32, device, check_batch_dtype(self.batch_dtype))
        dx, dy = X.shape[1], Y.shape[1]
        inits = [torch.randn(k, dx, generator=gen) / math.sqrt(dx), torch.randn(k, dy, generator=gen) / math.sqrt(dy)]
        loss_fn, extra_params, final_temperature = self._make_loss(temperature, similarity, device)
        (Vx, Vy), history = self._train(
            (A, B), [init.to(device) for init in inits], loss_fn, gen, device, extra_params=extra_params, desc=type(self).__name__,
            sample_weight=None if w is None else torch.as_tensor(w),
        )
        Vx, Vy = Vx.cpu().double().numpy(), Vy.cpu().double().numpy()
        self.x_mean_, self.y_mean_ = mx, my
        self.x_components_, self.y_components_ = Vx @ Wx, Vy @ Wy
        if self.pair_whiten:
            self.x_components_, self.y_components_ = pair_whitened_maps(self.x_components_, self.y_components_, Sxx, Syy, Sxy)
        self.n_features_in_ = dx
        self.n_iter_ = history["epochs"]
        self.loss_curve_ = history["loss"]
        self.temperature_ = final_temperature()
        self._set_diagnostics(Vx, Vy, Wx @ Sxy @ Wy)
        return self

    def _make_loss(self, temperature: float, similarity: str, device: torch.device) -> tuple[Callable, tuple[torch.Tensor, ...], Callable[[], float]]:
        """The batch loss, its learnable parameters, and a function returning the final temperature."""
        log_scale = torch.tensor(math.log(1.0 / temperature), device=device, requires_grad=bool(self.learnable_temperature))

        def scale() -> torch.Tensor:
            # Clamp as open_clip does so a learnable scale cannot run away; tau = 1 / scale.
            return log_scale.clamp(max=math.log(_MAX_LOGIT_SCALE)).exp()

        def loss_fn(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return info_nce_unchecked(a, b, scale(), similarity, True)

        extra = (log_scale,) if self.learnable_temperature else ()
        return loss_fn, extra, lambda: float(1.0 / scale().detach())

    def _set_diagnostics(self, Vx: np.ndarray, Vy: np.ndarray, cross_white: np.ndarray) -> None:
        self.x_singular_values_ = np.linalg.svd(Vx, compute_uv=False)
        self.y_singular_values_ = np.linalg.svd(Vy, compute_uv=False)
        self.effective_rank_ = int(min(np.sum(s > self.collapse_tol * s.max()) for s in (self.x_singular_values_, self.y_singular_values_)))
        Qx = np.linalg.svd(Vx.T, full_matrices=False)[0]
        Qy = np.linalg.svd(Vy.T, full_matrices=False)[0]
        self.pair_correlations_ = np.linalg.svd(Qx.T @ cross_white @ Qy, compute_uv=False)
        # The self-check: closed-form CCA in the same whitening is the top singular pairs of cross_white.
        self.closed_form_correlations_ = np.linalg.svd(cross_white, compute_uv=False)[: len(self.pair_correlations_)]
        self.closed_form_share_ = closed_form_share(
            self.pair_correlations_, self.closed_form_correlations_, type(self).__name__, stacklevel=3)
        if self.effective_rank_ < len(self.x_singular_values_):
            warnings.warn(
                f"CLIP collapsed: a map kept only {self.effective_rank_} of {len(self.x_singular_values_)} directions "
                f"(x singular values {np.round(self.x_singular_values_ / self.x_singular_values_.max(), 4)}, "
                f"y {np.round(self.y_singular_values_ / self.y_singular_values_.max(), 4)}).",
                CollapseWarning,
                stacklevel=3,
            )


# ---------------------------------------------------------------------------- metrics


__all__ = ["CLIP", "SigLIP"]


class SigLIP(CLIP):
    """Linear two-tower model trained with SigLIP's sigmoid pairwise loss (no softmax over the batch).

    Each pair (i, j) of the batch is its own binary problem: matched (i = j) or not. The logits
    are ``t sim(a_i, b_j) + b`` with ``t = 1 / temperature`` and a learned bias ``b``. Same API
    and attributes as :class:`~contrastive_gmm.CLIP`.

    Why these defaults (measured on ``MultimodalGMM.random(5, 16, 12, n_private_x=3)``,
    n = 10000): SigLIP's own recipe (cosine, t = 10, b = -10, both learned) reached about 2x
    closed-form CCA's angle; dot similarity on whitened embeddings at temperature 10 reached
    1.1x. A learned scale then drifts (10 -> 1.8) and keeps the loss improving for the whole
    epoch budget, so the scale is fixed by default (``learnable_temperature=True`` learns it,
    clamped as CLIP's) and only the bias is learned.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
    >>> X, Y, z = mm.sample(5000, random_state=0)
    >>> model = cg.SigLIP(3, random_state=0).fit(X, Y)
    >>> bool(cg.subspace_angles(model.x_subspace(), mm.clip_target(0)).max() < 15)
    True
    """

    def __init__(self, n_components: int = 2, *, temperature: float = 10.0, bias: float = 0.0, similarity: Similarity = "dot",
                 learnable_temperature: bool = False, whiten_output: bool = True, batch_size: int = BATCH_SIZE,
                 max_epochs: int | None = None, lr: float = LR, tol: float = TOL, patience: int = PATIENCE, reg: float | str = REG_AUTO,
                 random_state: int | None = None, device: str = "cpu", verbose: bool = False, pair_whiten: bool = True) -> None:
        super().__init__(n_components=n_components, temperature=temperature, similarity=similarity,
                         learnable_temperature=learnable_temperature, whiten_output=whiten_output, pair_whiten=pair_whiten,
                         batch_size=batch_size,
                         max_epochs=max_epochs, lr=lr, tol=tol, patience=patience, reg=reg,
                         random_state=random_state, device=device, verbose=verbose)
        self.bias = bias

    def _make_loss(self, temperature: float, similarity: str, device: torch.device) -> tuple[LossFn, tuple[torch.Tensor, ...], Callable[[], float]]:
        if isinstance(self.bias, bool) or not isinstance(self.bias, numbers.Real):
            raise InputTypeError(f"bias must be a real number; got {self.bias!r} ({type(self.bias).__name__}).")
        if not np.isfinite(self.bias):
            raise ValueError(f"bias must be a finite number; got {self.bias}.")
        log_scale = torch.tensor(math.log(1.0 / temperature), device=device, requires_grad=bool(self.learnable_temperature))
        bias = torch.tensor(float(self.bias), device=device, requires_grad=True)
        clamp = math.log(_MAX_LOGIT_SCALE)
        loss = lambda a, b: sigmoid_pair_loss(a, b, log_scale.clamp(max=clamp), bias, similarity)  # noqa: E731
        extra = (log_scale, bias) if self.learnable_temperature else (bias,)
        return loss, extra, lambda: float(torch.exp(-log_scale.detach().clamp(max=clamp)))
