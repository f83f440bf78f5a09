"""Trained linear contrastive learners (PyTorch), scikit-learn style.

Why training happens in whitened coordinates: the learner's family is *all* linear maps, so
writing the map as ``V S^{-1/2}`` (S the pooled covariance) changes neither the loss values
nor the optimum over that family, on the population or on the sample. It only preconditions
the optimisation (every direction starts at the same scale), which is what makes the defaults
work without tuning and the fit independent of the input's scale.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike
from tqdm.auto import tqdm

from ._base import LinearProjection
from ._validation import (
    check_choice,
    check_n_components,
    check_paired,
    check_positive,
    check_positive_int,
)
from .losses import SIMILARITIES, info_nce
from .spectral import pair_moments, ridge


_MAX_HALVINGS = 4
_MIN_STEPS_PER_CHECK = 64
_MAX_BAD_STEPS = 20


class CollapseWarning(UserWarning):
    """A learned map lost a direction: one singular value is negligible next to the largest."""


def whitener(cov: np.ndarray, reg: float) -> np.ndarray:
    """Return the symmetric ``S^{-1/2}`` of the ridged covariance ``S``."""
    vals, vecs = np.linalg.eigh(ridge(cov, reg))
    return (vecs / np.sqrt(vals)) @ vecs.T


def _torch_generator(random_state: int | None | np.random.Generator) -> torch.Generator:
    """A torch Generator seeded from ``random_state`` (fresh entropy when None)."""
    if isinstance(random_state, np.random.Generator):
        seed = int(random_state.integers(0, 2**63 - 1))
    elif random_state is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
    elif isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        seed = int(random_state)
    else:
        raise TypeError(f"random_state must be None, an int or a numpy Generator; got {random_state!r}.")
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def orthonormal_rows(U: torch.Tensor) -> torch.Tensor:
    """Rows of ``U`` orthonormalised (QR, signs fixed so the map is a smooth function of ``U``)."""
    Q, R = torch.linalg.qr(U.T)
    signs = torch.sign(torch.diagonal(R))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return (Q * signs).T


def train_linear_maps(
    views: tuple[torch.Tensor, torch.Tensor],
    inits: list[torch.Tensor],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    parametrize: Callable[[torch.Tensor], torch.Tensor] | None = None,
    extra_params: tuple[torch.Tensor, ...] = (),
    batch_size: int,
    max_epochs: int,
    lr: float,
    tol: float,
    patience: int,
    generator: torch.Generator,
    verbose: bool = False,
    desc: str = "fit",
) -> tuple[torch.Tensor, dict]:
    """Minimise ``loss_fn(A[b] @ V_a.T, B[b] @ V_b.T)`` over shuffled mini-batches ``b`` with Adam.

    One init means one map shared by both views (``V_a = V_b``, as in InfoNCE); two inits
    mean a map per view (as in CLIP). Each ``V = parametrize(U)`` for its free parameter ``U``
    (identity when None); ``extra_params`` (a learnable temperature, say) are optimised too. Progress is
    judged over periods of at least ``_MIN_STEPS_PER_CHECK`` steps (whole epochs): the learning
    rate is halved whenever the period's mean loss has not improved by a relative ``tol`` for
    ``patience`` periods, and training stops after the fourth halving (the optimiser has settled
    in the plateau) or after ``max_epochs`` passes. A non-finite loss skips the step and halves
    the learning rate; ``_MAX_BAD_STEPS`` of them raise FloatingPointError. Returns the maps
    (one per init) and a history dict (mean loss per period, epochs run, stop reason).
    """
    A, B = views
    n = A.shape[0]
    param = parametrize or (lambda U: U)
    Us = [init.clone().requires_grad_(True) for init in inits]
    opt = torch.optim.Adam([*Us, *extra_params], lr=lr)
    batch_size = min(batch_size, n)
    n_batches = max(1, n // batch_size)  # drop the ragged tail: every batch has the same negatives count
    # Small data sets make short epochs whose loss says little: judge progress over >= 64 steps.
    epochs_per_check = max(1, math.ceil(_MIN_STEPS_PER_CHECK / n_batches))
    best, stale, halvings, bad_steps = math.inf, 0, 0, 0
    history: dict = {"loss": [], "stop": "max_epochs"}
    total, steps, epochs = 0.0, 0, 0
    bar = tqdm(total=max_epochs, desc=desc, disable=not verbose, leave=False, unit="epoch")
    while epochs < max_epochs:
        perm = torch.randperm(n, generator=generator)
        for i in range(n_batches):
            idx = perm[i * batch_size : (i + 1) * batch_size]
            Va, Vb = param(Us[0]), param(Us[-1])
            loss = loss_fn(A[idx] @ Va.T, B[idx] @ Vb.T)
            if not torch.isfinite(loss):
                # Skip the step and cool down: a NaN must never reach the parameters.
                bad_steps += 1
                if bad_steps >= _MAX_BAD_STEPS:
                    raise FloatingPointError(
                        f"the loss was not finite at {bad_steps} steps even after lowering the learning rate; "
                        "check the input scale or raise the temperature."
                    )
                for group in opt.param_groups:
                    group["lr"] *= 0.5
                continue
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
            steps += 1
        epochs += 1
        bar.update(1)
        if epochs % epochs_per_check and epochs < max_epochs:
            continue
        period_loss = total / max(steps, 1)
        total, steps = 0.0, 0
        history["loss"].append(period_loss)
        bar.set_postfix(loss=f"{period_loss:.4f}", lr=f"{opt.param_groups[0]['lr']:.2g}")
        if period_loss < best - tol * abs(best):
            best, stale = period_loss, 0
        else:
            stale += 1
        if stale >= patience:
            halvings, stale = halvings + 1, 0
            for group in opt.param_groups:
                group["lr"] *= 0.5
        if halvings >= _MAX_HALVINGS:
            history["stop"] = "plateau"
            break
    bar.close()
    history["epochs"] = epochs
    with torch.no_grad():
        maps = [param(U).detach() for U in Us]
    if not all(torch.all(torch.isfinite(V)) for V in maps):
        raise FloatingPointError("training diverged (non-finite parameters); lower lr or raise temperature.")
    return maps, history


class _TrainedLinear(LinearProjection):
    """Shared bookkeeping of trained maps: collapse diagnostics in whitened coordinates."""

    collapse_tol: float = 1e-2

    def _set_diagnostics(self, V: np.ndarray, cross_white: np.ndarray) -> None:
        # Singular values of the map on whitened data: their squares are the embedding's variances.
        s = np.linalg.svd(V, compute_uv=False)
        # Correlation of anchor and positive along each principal direction of the embedding.
        u = np.linalg.svd(V.T, full_matrices=False)[0]
        self.pair_correlations_ = np.sort(np.linalg.eigvalsh(u.T @ cross_white @ u))[::-1]
        self.singular_values_ = s
        self.effective_rank_ = int(np.sum(s > self.collapse_tol * s.max())) if s.size else 0
        if self.effective_rank_ < len(s):
            warnings.warn(
                f"{type(self).__name__} collapsed: {len(s) - self.effective_rank_} of {len(s)} directions have a "
                f"singular value below {self.collapse_tol:g} x the largest (singular values {np.round(s / s.max(), 4)}). "
                "The embedding has lost a direction; try a lower temperature.",
                CollapseWarning,
                stacklevel=3,
            )


class InfoNCE(_TrainedLinear):
    """Linear InfoNCE on positive pairs: learns a k x d map whose row space is the Fisher subspace.

    Each row of ``X`` is paired with the same row of ``X_pos``; the other rows in a batch are
    negatives. Data are centred with the pooled mean of both views; training runs in whitened
    coordinates (a preconditioning that leaves the optimum over linear maps unchanged, see the
    module docstring), from a random initialisation, with Adam, halving the learning rate on
    plateaus and stopping early.

    Why the defaults: unconstrained cosine InfoNCE collapses weak Fisher directions (a singular
    value of the map falls to ~0) at every temperature we tried once the components' separations
    are unequal, and dot-product InfoNCE does not collapse but its error is ~1.6x LDA's. With
    ``whiten_output=True`` the map is restricted to embeddings with identity covariance on the
    training data (orthonormal rows in whitened coordinates): no direction can collapse, and the
    loss alone decides *which* k-dimensional subspace to keep. With that constraint the error
    falls monotonically towards pair CCA's as the temperature grows (0.5: 2-3x, 1.0: 1.2-1.4x,
    2.0: 1.0-1.2x pair CCA on ``benchmarks/fisher_recovery.py``'s settings), hence ``2.0``.

    Parameters
    ----------
    n_components : int
        Dimension k of the embedding (K - 1 for the whole Fisher subspace of K components).
    temperature : float
        Softmax temperature. For ``similarity="dot"`` with ``whiten_output=False`` the optimum
        does not depend on it (the map's scale absorbs it).
    similarity : {"cosine", "dot"}
        Similarity of embeddings.
    symmetric : bool
        Average both directions of the loss (X -> X_pos and X_pos -> X).
    whiten_output : bool
        Constrain the embedding to identity covariance on the training data (see above).
        ``False`` trains an unconstrained linear map, which can collapse: watch
        ``singular_values_`` and :class:`CollapseWarning`.
    batch_size : int
        Pairs per batch; each anchor sees ``batch_size - 1`` negatives.
    max_epochs : int
        Upper bound on passes over the data.
    lr : float
        Adam's initial learning rate (in whitened coordinates, so it does not depend on scale).
    tol, patience : float, int
        Plateau detection: the learning rate halves after ``patience`` epochs without a relative
        improvement of ``tol``; the third halving stops training.
    reg : float
        Ridge on the pooled covariance, relative to its mean eigenvalue.
    random_state : int, numpy Generator or None
        Seed of the initialisation and of the batch order.
    device : str
        Torch device, e.g. ``"cpu"`` or ``"cuda"``.
    verbose : bool
        Show a progress bar.

    Attributes
    ----------
    components_ : ndarray (k, d)
        The learned map in input coordinates: ``transform(X) = (X - mean_) @ components_.T``.
    mean_ : ndarray (d,)
        Pooled mean of both views.
    singular_values_ : ndarray (k,)
        Singular values of the map on whitened data (all 1 when ``whiten_output``); one that is
        negligible next to the largest means a lost direction (a :class:`CollapseWarning` is raised).
    pair_correlations_ : ndarray (k,)
        Correlation between anchor and positive along each principal direction of the
        embedding, decreasing; one near 0 is a direction that carries no shared signal.
    effective_rank_ : int
        Number of singular values above ``1e-2`` x the largest.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Mean training loss per progress check (one or more epochs, at least 64 steps).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.InfoNCE(n_components=3, random_state=0).fit(X, X_pos)
    >>> model.transform(X).shape
    (5000, 3)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 15)
    True
    """

    def __init__(
        self,
        n_components: int = 2,
        temperature: float = 2.0,
        similarity: str = "cosine",
        symmetric: bool = True,
        whiten_output: bool = True,
        batch_size: int = 512,
        max_epochs: int = 200,
        lr: float = 0.02,
        tol: float = 1e-4,
        patience: int = 2,
        reg: float = 1e-6,
        random_state: int | None = None,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
        self.n_components = n_components
        self.temperature = temperature
        self.similarity = similarity
        self.symmetric = symmetric
        self.whiten_output = whiten_output
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.tol = tol
        self.patience = patience
        self.reg = reg
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _check_params(self, d: int) -> int:
        check_positive(self.temperature, "temperature")
        check_choice(self.similarity, "similarity", SIMILARITIES)
        check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.max_epochs, "max_epochs")
        check_positive(self.lr, "lr")
        check_positive(self.tol, "tol")
        check_positive_int(self.patience, "patience")
        check_positive(self.reg, "reg")
        return check_n_components(self.n_components, d)

    def fit(self, X: ArrayLike, X_pos: ArrayLike) -> "InfoNCE":
        """Learn the map from row-paired views ``X`` (n, d) and ``X_pos`` (n, d)."""
        if X_pos is None:
            raise ValueError("InfoNCE.fit needs the positives: call fit(X, X_pos) with row-paired views.")
        X, X_pos = check_paired(X, X_pos)
        d = X.shape[1]
        k = self._check_params(d)
        gen = _torch_generator(self.random_state)
        mean, cov, cross = pair_moments(X, X_pos)
        inv_sqrt = whitener(cov, self.reg)
        device = torch.device(self.device)
        to = lambda a: torch.as_tensor(((a - mean) @ inv_sqrt).astype(np.float32), device=device)  # noqa: E731
        init = torch.randn(k, d, generator=gen) / math.sqrt(d)
        temperature, similarity, symmetric = float(self.temperature), self.similarity, bool(self.symmetric)
        (V,), history = train_linear_maps(
            (to(X), to(X_pos)),
            [init.to(device)],
            lambda a, b: info_nce(a, b, temperature, similarity, symmetric),
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            lr=self.lr,
            tol=self.tol,
            patience=self.patience,
            parametrize=orthonormal_rows if self.whiten_output else None,
            generator=gen,
            verbose=self.verbose,
            desc="InfoNCE",
        )
        V = V.cpu().double().numpy()
        self.mean_ = mean
        self.components_ = V @ inv_sqrt
        self.n_features_in_ = d
        self.n_iter_ = history["epochs"]
        self.loss_curve_ = history["loss"]
        self._set_diagnostics(V, inv_sqrt @ cross @ inv_sqrt)
        return self


__all__ = ["InfoNCE", "CollapseWarning", "train_linear_maps", "orthonormal_rows", "whitener"]
