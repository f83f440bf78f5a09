"""Multimodal Gaussian mixtures: one latent component seen by several modalities, each with its own private structure.

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

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    InputTypeError,
    check_float_array,
    check_nonnegative_int,
    check_positive_int,
    check_spd,
    check_weights,
)
from contrastive_gmm.linalg import cca_directions
from contrastive_gmm.mixtures.gmm import GMM, RandomState, _rng, simplex_coordinates


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
                private = private_separation * simplex_coordinates(n_private) @ basis.T
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


__all__ = ["Modality", "MultimodalGMM"]
