"""Multimodal mixtures and linear CLIP: each modality keeps the part of its Fisher subspace both can see.

A latent component z (weights pi) is shared by the modalities. Modality m draws
``x = mu_m[z] + nu_m[u_m] + noise_m``: its own means per component, its own anisotropic noise,
and optionally *private* clusters ``u_m`` that no other modality sees. Positives are the rows
of the other modality. The population answers (THEORY.md):

- per-modality Fisher subspace for z, with within = noise + private scatter;
- ``Cov(x, y) = M_x^T diag(pi) M_y`` (noise and private parts are independent across modalities);
- linear CLIP's target in modality x: ``Cov(x)^{-1} col(Cov(x, y))``, the CCA directions with
  non-zero canonical correlation. It lies inside x's Fisher subspace, and is smaller when the
  other modality cannot tell some components apart.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import scipy.linalg
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._validation import (
    InputTypeError,
    check_choice,
    check_float_array,
    check_labels,
    check_matrix,
    check_nonnegative_int,
    check_n_components,
    check_paired,
    check_positive,
    check_positive_int,
    check_reg,
    check_spd,
    check_weights,
)
from .contrastive import (
    CollapseWarning,
    closed_form_share,
    _TrainsMaps,
    _torch_generator,
    check_device,
    whiten_to_tensor,
    whitener,
)
from .losses import SIMILARITIES, info_nce_unchecked
from .mixture import GMM, RandomState, _rng
from .spectral import covariance_regularisation, pair_scaling, ridge


# ---------------------------------------------------------------------------- the mixture
@dataclass(frozen=True, eq=False)
class Modality:
    """One modality: means per shared component, noise covariance, optional private clusters.

    Parameters
    ----------
    means : (K, d) array
        Mean of each shared component in this modality (rows may coincide: this modality then
        cannot tell those components apart).
    covariance : (d, d) array
        Noise covariance, symmetric positive definite.
    private_means : (P, d) array, optional
        Offsets of P private clusters, drawn independently of z and seen by this modality only.
    private_weights : (P,) array, optional
        Their probabilities (uniform by default).
    """

    means: np.ndarray
    covariance: np.ndarray
    private_means: np.ndarray | None = None
    private_weights: np.ndarray | None = None

    def __post_init__(self) -> None:
        M = check_float_array(self.means, "means", ndim=2)
        object.__setattr__(self, "means", M)
        object.__setattr__(self, "covariance", check_spd(self.covariance, M.shape[1], "covariance"))
        if self.private_means is not None:
            P = check_float_array(self.private_means, "private_means", ndim=2)
            if P.shape[1] != M.shape[1]:
                raise ValueError(
                    f"private_means must be a finite (P, {M.shape[1]}) array; got shape {P.shape}."
                )
            object.__setattr__(self, "private_means", P)
            object.__setattr__(self, "private_weights", check_weights(self.private_weights, P.shape[0]))
        elif self.private_weights is not None:
            raise ValueError("private_weights given without private_means.")

    @property
    def dim(self) -> int:
        """Dimension of this modality."""
        return self.means.shape[1]

    def private_scatter(self) -> np.ndarray:
        """Covariance contributed by the private clusters (zero without them)."""
        if self.private_means is None:
            return np.zeros((self.dim, self.dim))
        P = self.private_means - self.private_weights @ self.private_means
        return (P.T * self.private_weights) @ P


class MultimodalGMM:
    """A latent mixture component shared by several modalities, each with its own view of it.

    Parameters
    ----------
    modalities : sequence of :class:`Modality`
        Two or more modalities with the same number of components K.
    weights : (K,) array, optional
        Weights of the shared component z (uniform by default).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(5, 20, 12, n_private_x=3, coincide_y=1, random_state=0)
    >>> X, Y, z = mm.sample(1000, random_state=0)
    >>> X.shape, Y.shape, mm.fisher_subspace(0).shape, mm.clip_target(0).shape
    ((1000, 20), (1000, 12), (20, 4), (20, 3))
    """

    def __init__(self, modalities: Sequence[Modality], weights: ArrayLike | None = None) -> None:
        if isinstance(modalities, (str, bytes)) or not hasattr(modalities, "__iter__"):
            raise InputTypeError(f"modalities must be a sequence of Modality objects; got {type(modalities).__name__}.")
        mods = list(modalities)
        wrong = [type(m).__name__ for m in mods if not isinstance(m, Modality)]
        if wrong:
            raise InputTypeError(f"modalities must hold Modality objects; got {wrong[0]}.")
        if len(mods) < 2:
            raise ValueError(f"modalities must hold at least two Modality objects; got {len(mods)}.")
        K = mods[0].means.shape[0]
        if K < 2 or any(m.means.shape[0] != K for m in mods):
            raise ValueError(
                f"every modality needs the same number (>= 2) of component means; got {[m.means.shape[0] for m in mods]}."
            )
        self.modalities = mods
        self.weights = check_weights(weights, K)

    @property
    def n_components(self) -> int:
        """Number of shared components K."""
        return len(self.weights)

    def __repr__(self) -> str:
        return f"MultimodalGMM(n_components={self.n_components}, dims={[m.dim for m in self.modalities]})"

    @classmethod
    def random(
        cls,
        n_components: int,
        dim_x: int,
        dim_y: int,
        *,
        separation: float = 3.0,
        anisotropy: float = 10.0,
        noise_variance: float = 25.0,
        n_noise_directions: int | None = None,
        n_private_x: int = 0,
        n_private_y: int = 0,
        private_separation: float = 4.0,
        coincide_x: int = 0,
        coincide_y: int = 0,
        weights: ArrayLike | None = None,
        random_state: RandomState = None,
    ) -> "MultimodalGMM":
        """Two modalities built like :meth:`GMM.random`, plus private clusters and coinciding components.

        ``n_private_x`` private clusters (a regular simplex of radius ``private_separation`` in
        a random subspace) add structure only modality x sees; ``coincide_y = c`` makes
        components 1..c share component 0's mean in y, so y cannot tell them apart and CLIP's
        target in x loses c directions of x's Fisher subspace.
        """
        K = check_positive_int(n_components, "n_components")
        if K < 2:
            raise ValueError(f"n_components must be at least 2 (a shared component to tell apart); got {K}.")
        dims = (check_positive_int(dim_x, "dim_x"), check_positive_int(dim_y, "dim_y"))
        rng = _rng(random_state)
        mods = []
        for m, dim, n_private, coincide in zip("xy", dims, (n_private_x, n_private_y), (coincide_x, coincide_y)):
            if not 0 <= check_nonnegative_int(coincide, f"coincide_{m}") < K - 1:
                raise ValueError(f"coincide_{m} must be in 0..{K - 2} (some components must stay apart); got {coincide}.")
            if check_nonnegative_int(n_private, f"n_private_{m}") == 1:
                raise ValueError(f"n_private_{m} must be 0 or at least 2 (one cluster is no structure); got {n_private}.")
            needed = K - 1 + (K - 1 if n_noise_directions is None else check_nonnegative_int(n_noise_directions, "n_noise_directions"))
            if dim < needed:
                raise ValueError(f"dim_{m} must be at least n_components - 1 + n_noise_directions = {needed}; got {dim}.")
            base = GMM.random(
                K, dim, separation=separation, anisotropy=anisotropy,
                noise_variance=noise_variance, n_noise_directions=n_noise_directions, random_state=rng,
            )
            means = base.means.copy()
            means[1 : coincide + 1] = means[0]
            private = None
            if n_private:
                if dim < n_private - 1:
                    raise ValueError(f"dim_{m} = {dim} is too small for n_private_{m} = {n_private} private clusters (needs >= {n_private - 1}).")
                basis = np.linalg.qr(rng.standard_normal((dim, n_private - 1)))[0]
                simplex = np.eye(n_private) - 1.0 / n_private
                coords = np.linalg.svd(simplex)[0][:, : n_private - 1] * np.sqrt(n_private / (n_private - 1.0))
                private = private_separation * coords @ basis.T
            mods.append(Modality(means, base.within_covariance, private))
        return cls(mods, weights)

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, random_state: RandomState = None) -> tuple[np.ndarray, ...]:
        """Draw ``n`` paired rows; returns ``(X, Y, z)`` (one array per modality, then z)."""
        n = check_positive_int(n, "n")
        rng = _rng(random_state)
        z = rng.choice(self.n_components, size=n, p=self.weights)
        views = []
        for m in self.modalities:
            x = m.means[z] + rng.standard_normal((n, m.dim)) @ np.linalg.cholesky(m.covariance).T
            if m.private_means is not None:
                x += m.private_means[rng.choice(len(m.private_weights), size=n, p=m.private_weights)]
            views.append(x)
        return (*views, z)

    # ------------------------------------------------------------------ oracles
    def _mod(self, modality: int) -> Modality:
        if not isinstance(modality, (int, np.integer)) or not 0 <= modality < len(self.modalities):
            raise ValueError(f"modality must be an index in 0..{len(self.modalities) - 1}; got {modality!r}.")
        return self.modalities[modality]

    def centred_means(self, modality: int) -> np.ndarray:
        """K x d_m component means of one modality minus their weighted mean."""
        M = self._mod(modality).means
        return M - self.weights @ M

    def between_scatter(self, modality: int) -> np.ndarray:
        """Between-component scatter of z in one modality."""
        M = self.centred_means(modality)
        return (M.T * self.weights) @ M

    def within_covariance(self, modality: int) -> np.ndarray:
        """Within-component covariance for z: noise plus private scatter."""
        m = self._mod(modality)
        return m.covariance + m.private_scatter()

    def covariance(self, modality: int) -> np.ndarray:
        """Total covariance of one modality."""
        return self.within_covariance(modality) + self.between_scatter(modality)

    def cross_covariance(self, i: int = 0, j: int = 1) -> np.ndarray:
        """Cov(x_i, x_j) = M_i^T diag(pi) M_j."""
        return (self.centred_means(i).T * self.weights) @ self.centred_means(j)

    def fisher_rank(self, modality: int) -> int:
        """Dimension of the modality's Fisher subspace for z (K - 1 less coinciding components)."""
        return int(np.linalg.matrix_rank(self.centred_means(modality), tol=1e-9 * max(1.0, np.abs(self.centred_means(modality)).max())))

    def fisher_subspace(self, modality: int) -> np.ndarray:
        """Orthonormal basis of the modality's Fisher subspace for z (within = noise + private)."""
        r = self.fisher_rank(modality)
        vals, vecs = scipy.linalg.eigh(self.between_scatter(modality), self.within_covariance(modality))
        return np.linalg.qr(vecs[:, np.argsort(vals)[::-1][:r]])[0]

    def target_dim(self, i: int = 0, j: int = 1) -> int:
        """Number of non-zero canonical correlations between modalities i and j."""
        C = self.cross_covariance(i, j)
        return int(np.linalg.matrix_rank(C, tol=1e-9 * max(1.0, np.abs(C).max())))

    def canonical_correlations(self, i: int = 0, j: int = 1) -> np.ndarray:
        """Population canonical correlations between modalities i and j, decreasing."""
        _, _, rho = cca_directions(self.covariance(i), self.covariance(j), self.cross_covariance(i, j), self.target_dim(i, j))
        return rho

    def clip_target(self, modality: int = 0, other: int | None = None) -> np.ndarray:
        """Orthonormal basis of ``Cov(x)^{-1} col(Cov(x, y))``: what linear CLIP should learn in ``modality``."""
        other = (1 if modality == 0 else 0) if other is None else other
        r = self.target_dim(modality, other)
        U = np.linalg.svd(self.cross_covariance(modality, other), full_matrices=False)[0][:, :r]
        return np.linalg.qr(np.linalg.solve(self.covariance(modality), U))[0]


# ---------------------------------------------------------------------------- closed forms
def _inv_sqrt(S: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(S)
    return (vecs / np.sqrt(vals)) @ vecs.T


def cca_directions(Sxx: np.ndarray, Syy: np.ndarray, Sxy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form CCA by whitened SVD: ``svd(Sxx^{-1/2} Sxy Syy^{-1/2})``.

    Returns ``(Wx (k, dx), Wy (k, dy), correlations (k,))`` with ``Wx Sxx Wx^T = I``.
    """
    Wx, Wy = _inv_sqrt(Sxx), _inv_sqrt(Syy)
    U, s, Vt = np.linalg.svd(Wx @ Sxy @ Wy, full_matrices=False)
    return U[:, :k].T @ Wx, Vt[:k] @ Wy, s[:k]


def pair_whitened_maps(Ax: np.ndarray, Ay: np.ndarray, Sxx: np.ndarray, Syy: np.ndarray, Sxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both maps followed by one k x k map under which ``z_x - z_y`` has identity covariance (see :func:`~contrastive_gmm.spectral.pair_scaling`).

    The two embeddings share one space, so the difference of a pair's embeddings is defined;
    for same-class pairs its covariance is the within-class one, and this is LDA's scaling
    without labels.
    """
    cross = Ax @ Sxy @ Ay.T
    diff_cov = (Ax @ Sxx @ Ax.T + Ay @ Syy @ Ay.T - cross - cross.T) / 2
    R = pair_scaling(diff_cov)
    return R @ Ax, R @ Ay


def two_view_moments(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Means and covariances of two row-paired views: ``(mx, my, Sxx, Syy, Sxy)`` in float64."""
    mx, my = X.mean(0, dtype=np.float64), Y.mean(0, dtype=np.float64)
    Xc, Yc = X.astype(np.float64) - mx, Y.astype(np.float64) - my
    n = X.shape[0]
    return mx, my, Xc.T @ Xc / n, Yc.T @ Yc / n, Xc.T @ Yc / n


class TwoViewProjection(TransformerMixin, BaseEstimator):
    """Base class: a linear map per view, ``transform(X, Y=None)`` as in scikit-learn's CCA."""

    def _check_widths(self, X: ArrayLike, Y: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
        check_is_fitted(self, "x_components_")
        X = check_matrix(X, "X", min_samples=1)
        if X.shape[1] != self.x_components_.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.x_components_.shape[1]} features as input.")
        if Y is None:
            return X, None
        Y = check_matrix(Y, "Y", min_samples=1)
        if Y.shape[1] != self.y_components_.shape[1]:
            raise ValueError(f"Y has {Y.shape[1]} features, but {type(self).__name__} is expecting {self.y_components_.shape[1]} features as input.")
        return X, Y

    def transform(self, X: ArrayLike, Y: ArrayLike | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """X scores ``(X - x_mean_) @ x_components_.T``; with ``Y``, the pair ``(X scores, Y scores)``."""
        X, Y = self._check_widths(X, Y)
        x_scores = (X - self.x_mean_) @ self.x_components_.T
        if Y is None:
            return x_scores
        return x_scores, (Y - self.y_mean_) @ self.y_components_.T

    def fit_transform(self, X: ArrayLike, Y: ArrayLike, **fit_params: object) -> tuple[np.ndarray, np.ndarray]:
        """Fit on the pairs and return ``(X scores, Y scores)``."""
        return self.fit(X, Y, **fit_params).transform(X, Y)

    def x_subspace(self) -> np.ndarray:
        """Orthonormal basis (dx, k) of the x map's row space."""
        check_is_fitted(self, "x_components_")
        return np.linalg.qr(self.x_components_.T)[0]

    def y_subspace(self) -> np.ndarray:
        """Orthonormal basis (dy, k) of the y map's row space."""
        check_is_fitted(self, "y_components_")
        return np.linalg.qr(self.y_components_.T)[0]


def _check_two_view(X: ArrayLike, Y: ArrayLike, n_components: object) -> tuple[np.ndarray, np.ndarray, int]:
    if Y is None:
        raise ValueError("fit needs both views: call fit(X, Y) with row-paired X and Y.")
    X, Y = check_paired(X, Y, names=("X", "Y"), same_width=False)
    k = check_n_components(n_components, min(X.shape[1], Y.shape[1]))
    return X, Y, k


class CCA(TwoViewProjection):
    """Closed-form CCA (whitened SVD of the cross-covariance), each view's covariance shrunk (Ledoit-Wolf).

    The population answer of linear CLIP: its top canonical directions with non-zero correlation.
    scikit-learn's :class:`sklearn.cross_decomposition.CCA` (iterative NIPALS) reaches the same
    subspace on well-conditioned data and serves as a cross-check.

    Parameters
    ----------
    n_components : int
        Number of canonical directions.
    reg : "auto" or float
        Regularisation of each view's covariance, as for
        :class:`~contrastive_gmm.SpectralContrastive` (``"auto"``: Ledoit-Wolf shrinkage).
    pair_whiten : bool
        Follow both maps by one k x k map under which the difference of a pair's scores has
        identity covariance (:func:`pair_whitened_maps`; LDA's scaling for same-class pairs).
        ``False``: scores of unit variance. The subspaces are the same either way.

    Attributes
    ----------
    x_components_, y_components_ : (k, dx), (k, dy) arrays
        Canonical directions, scaled as ``pair_whiten`` says.
    correlations_ : (k,) array
        Canonical correlations, decreasing.
    x_shrinkage_, y_shrinkage_ : float
        The Ledoit-Wolf intensity used for each view (0 when ``reg`` is a number).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
    >>> X, Y, z = mm.sample(5000, random_state=0)
    >>> cca = cg.CCA(3).fit(X, Y)
    >>> bool(cg.subspace_angles(cca.x_subspace(), mm.clip_target(0)).max() < 10)
    True
    """

    def __init__(self, n_components: int = 2, reg: float | str = "auto", pair_whiten: bool = True) -> None:
        self.n_components = n_components
        self.reg = reg
        self.pair_whiten = pair_whiten

    def fit(self, X: ArrayLike, Y: ArrayLike) -> "CCA":
        """Estimate canonical directions from row-paired views."""
        X, Y, k = _check_two_view(X, Y, self.n_components)
        reg = check_reg(self.reg)
        self.x_mean_, self.y_mean_, Sxx, Syy, Sxy = two_view_moments(X, Y)
        (rx, self.x_shrinkage_), (ry, self.y_shrinkage_) = (
            covariance_regularisation(reg, X, self.x_mean_), covariance_regularisation(reg, Y, self.y_mean_))
        self.x_components_, self.y_components_, self.correlations_ = cca_directions(
            ridge(Sxx, rx, self.x_shrinkage_), ridge(Syy, ry, self.y_shrinkage_), Sxy, k)
        if self.pair_whiten:
            self.x_components_, self.y_components_ = pair_whitened_maps(self.x_components_, self.y_components_, Sxx, Syy, Sxy)
        return self


class PLSSVD(TwoViewProjection):
    """PLS-SVD: top singular vectors of the unwhitened cross-covariance (follows variance, not Fisher).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> mm = cg.MultimodalGMM.random(4, 10, 8, random_state=0)
    >>> X, Y, z = mm.sample(2000, random_state=0)
    >>> cg.PLSSVD(2).fit(X, Y).transform(X, Y)[1].shape
    (2000, 2)
    """

    def __init__(self, n_components: int = 2) -> None:
        self.n_components = n_components

    def fit(self, X: ArrayLike, Y: ArrayLike) -> "PLSSVD":
        """Estimate singular directions of the cross-covariance."""
        X, Y, k = _check_two_view(X, Y, self.n_components)
        self.x_mean_, self.y_mean_, _, _, Sxy = two_view_moments(X, Y)
        U, s, Vt = np.linalg.svd(Sxy, full_matrices=False)
        self.x_components_, self.y_components_, self.singular_values_ = U[:, :k].T, Vt[:k], s[:k]
        return self


# ---------------------------------------------------------------------------- CLIP
_MAX_LOGIT_SCALE = 100.0  # open_clip's clamp on exp(logit_scale)


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
    n_components : int
        Embedding dimension k (at most the smaller width). The population answer has as many
        directions as non-zero canonical correlations.
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
    whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose
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
        temperature: float = 10.0,
        similarity: str = "dot",
        learnable_temperature: bool = False,
        whiten_output: bool = True,
        pair_whiten: bool = True,
        batch_size: int = 512,
        max_epochs: int | None = None,
        lr: float = 0.02,
        tol: float = 1e-4,
        patience: int = 2,
        reg: float | str = "auto",
        random_state: int | None = None,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
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

    def fit(self, X: ArrayLike, Y: ArrayLike) -> "CLIP":
        """Learn both maps from row-paired views ``X`` (n, dx) and ``Y`` (n, dy)."""
        X, Y, k = _check_two_view(X, Y, self.n_components)
        temperature = check_positive(self.temperature, "temperature")
        similarity = check_choice(self.similarity, "similarity", SIMILARITIES)
        self._check_training_params()
        if self.learnable_temperature and temperature < 1.0 / _MAX_LOGIT_SCALE:
            raise ValueError(f"temperature must be >= {1 / _MAX_LOGIT_SCALE} when learnable (open_clip's clamp); got {temperature}.")
        gen = _torch_generator(self.random_state)
        device = check_device(self.device)
        mx, my, Sxx, Syy, Sxy = two_view_moments(X, Y)
        (rx, self.x_shrinkage_), (ry, self.y_shrinkage_) = (
            covariance_regularisation(self.reg, X, mx), covariance_regularisation(self.reg, Y, my))
        Wx, Wy = whitener(Sxx, rx, self.x_shrinkage_), whitener(Syy, ry, self.y_shrinkage_)
        A = whiten_to_tensor(X, mx, Wx, torch.float32, device)
        B = whiten_to_tensor(Y, my, Wy, torch.float32, device)
        dx, dy = X.shape[1], Y.shape[1]
        inits = [torch.randn(k, dx, generator=gen) / math.sqrt(dx), torch.randn(k, dy, generator=gen) / math.sqrt(dy)]
        loss_fn, extra_params, final_temperature = self._make_loss(temperature, similarity, device)
        (Vx, Vy), history = self._train(
            (A, B), [init.to(device) for init in inits], loss_fn, gen, device, extra_params=extra_params, desc=type(self).__name__
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
def retrieval_accuracy(
    Zx: ArrayLike,
    Zy: ArrayLike,
    ks: Sequence[int] = (1, 5),
    similarity: str = "cosine",
    labels: ArrayLike | None = None,
    chunk: int = 1024,
) -> dict[str, float]:
    """Cross-modal retrieval on held-out pairs: is row i of ``Zy`` among the top-k matches of row i of ``Zx``, and back?

    Returns ``x_to_y_top{k}`` and ``y_to_x_top{k}`` for each k (chance is k / n). With
    ``labels``, also ``x_to_y_same_component`` / ``y_to_x_same_component``: the top-1 match has
    the query's component (chance ~ sum pi_k^2), which is what a shared component can support.
    Scores are computed in row chunks, so no n x n matrix is held.

    Examples
    --------
    >>> Z = np.eye(4)
    >>> retrieval_accuracy(Z, Z, ks=(1,))["x_to_y_top1"]
    1.0
    """
    Zx, Zy = check_paired(Zx, Zy, names=("Zx", "Zy"))
    check_choice(similarity, "similarity", SIMILARITIES)
    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__"):
        raise InputTypeError(f"ks must be a sequence of integers >= 1; got {ks!r}.")
    ks = [check_positive_int(k, "ks") for k in ks]
    chunk = check_positive_int(chunk, "chunk")
    if similarity == "cosine":
        Zx = Zx / np.maximum(np.linalg.norm(Zx, axis=1, keepdims=True), 1e-300)
        Zy = Zy / np.maximum(np.linalg.norm(Zy, axis=1, keepdims=True), 1e-300)
    y = None if labels is None else check_labels(labels, Zx.shape[0], "labels")
    out: dict[str, float] = {}
    for name, Q, D in (("x_to_y", Zx, Zy), ("y_to_x", Zy, Zx)):
        ranks, same = [], []
        for start in range(0, Q.shape[0], chunk):
            S = Q[start : start + chunk] @ D.T
            rows = np.arange(start, min(start + chunk, Q.shape[0]))
            true = S[rows - start, rows]
            ranks.append((S > true[:, None]).sum(axis=1))  # 0 = the true partner is the best match
            if y is not None:
                same.append(y[S.argmax(axis=1)] == y[rows])
        rank = np.concatenate(ranks)
        for k in ks:
            out[f"{name}_top{k}"] = float(np.mean(rank < k))
        if y is not None:
            out[f"{name}_same_component"] = float(np.mean(np.concatenate(same)))
    return out


def energy_outside(components: ArrayLike, subspace: ArrayLike) -> float:
    """Fraction of a map's energy outside a subspace: ``||W (I - P)||_F^2 / ||W||_F^2``.

    ``components`` is the k x d map (rows are weight vectors in input space) and ``subspace`` a
    d x r basis (orthonormalised here). 0 means every weight vector lies inside the subspace.

    Examples
    --------
    >>> energy_outside(np.array([[1.0, 1.0]]), np.array([[1.0], [0.0]]))
    0.5
    """
    W = check_float_array(components, "components", ndim=2)
    Q = np.linalg.qr(check_float_array(subspace, "subspace", ndim=2))[0]
    if W.shape[1] != Q.shape[0]:
        raise ValueError(f"components must be (k, {Q.shape[0]}) to match the subspace; got {W.shape}.")
    if not np.any(W):
        raise ValueError("components must not be all zero: a map with no energy has no fraction outside.")
    outside = W - (W @ Q) @ Q.T
    return float(np.sum(outside**2) / np.sum(W**2))


__all__ = [
    "Modality",
    "MultimodalGMM",
    "CCA",
    "PLSSVD",
    "CLIP",
    "cca_directions",
    "two_view_moments",
    "retrieval_accuracy",
    "energy_outside",
]
