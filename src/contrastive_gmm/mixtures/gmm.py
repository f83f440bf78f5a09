"""Gaussian mixtures with one shared covariance, their augmentations and population oracles.

This is the first step of the data flow: a known mixture makes paired views ``(X, X_pos)``
and knows the closed-form answers (between scatter, Fisher subspace, pair cross-covariance)
that every learner is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    InputTypeError,
    check_float_array,
    check_n_components,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_probability,
    check_spd,
    check_weights,
)

RandomState = Optional[int | np.random.RandomState | np.random.Generator]


def _rng(random_state: RandomState) -> np.random.Generator:
    """Return a numpy Generator from a non-negative int, a Generator, a RandomState or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer seed; got {random_state}.")
        return np.random.default_rng(random_state)
    raise InputTypeError(
        f"random_state must be None, a non-negative int or a numpy Generator; got {random_state!r} "
        f"({type(random_state).__name__})."
    )


class Augmentation:
    """How a positive's component is drawn from its anchor's: a K x K row-stochastic channel.

    Subclasses define :meth:`transition_matrix`; sampling and the population
    cross-covariance follow from it.
    """

    def transition_matrix(self, weights: np.ndarray) -> np.ndarray:
        """Return Q with Q[i, j] = P(z_pos = j | z = i) for a mixture with ``weights``."""
        raise NotImplementedError

    def sample_components(self, z: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw the positive's component for each anchor component in ``z``."""
        Q = self.transition_matrix(weights)
        cum = np.cumsum(Q, axis=1)
        cum[:, -1] = 1.0  # guard against round-off leaving a gap at the top
        u = rng.random(z.shape[0])
        return (u[:, None] > cum[z]).sum(axis=1)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(vars(self).items()))))


class SameComponent(Augmentation):
    """The positive is an independent draw from the anchor's own component (Q = I).

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(3, 5, random_state=0)
    >>> X, X_pos, z, z_pos = gmm.sample_pairs(4, cg.SameComponent(), random_state=0)
    >>> bool((z == z_pos).all())
    True
    """

    def transition_matrix(self, weights: np.ndarray) -> np.ndarray:
        """Identity: the component never changes."""
        return np.eye(len(weights))

    def sample_components(self, z: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Copy of ``z``."""
        return z.copy()


class NoisyComponent(Augmentation):
    """With probability ``1 - delta`` the anchor's component, otherwise a fresh mixture draw.

    The positive keeps the mixture as its marginal; the pair cross-covariance shrinks to
    ``(1 - delta) S_B``.

    Parameters
    ----------
    delta : float in [0, 1]
        Probability that the positive comes from a fresh draw of the whole mixture.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> cg.NoisyComponent(0.5).transition_matrix(np.array([0.5, 0.5]))
    array([[0.75, 0.25],
           [0.25, 0.75]])
    """

    def __init__(self, delta: float) -> None:
        self.delta = check_probability(delta, "delta")

    def transition_matrix(self, weights: np.ndarray) -> np.ndarray:
        """``(1 - delta) I + delta 1 pi^T``."""
        K = len(weights)
        return (1.0 - self.delta) * np.eye(K) + self.delta * np.tile(weights, (K, 1))

    def sample_components(self, z: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Keep ``z`` or, with probability ``delta``, redraw from ``weights``."""
        fresh = rng.random(z.shape[0]) < self.delta
        out = z.copy()
        out[fresh] = rng.choice(len(weights), size=int(fresh.sum()), p=weights)
        return out


class ChannelAugmentation(Augmentation):
    """A general channel: the positive's component is drawn from row ``z`` of a K x K matrix Q.

    :class:`SameComponent` is ``Q = I`` and :class:`NoisyComponent` is
    ``(1 - delta) I + delta 1 pi^T``. A Q whose rows for components i and j are equal *merges*
    them: no positive pair can tell them apart, so the direction separating them leaves the
    subspace contrastive learning finds (see :func:`predicted_subspace`).

    Parameters
    ----------
    Q : (K, K) array
        Row-stochastic: ``Q[i, j] = P(z_pos = j | z = i)``.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> merge = cg.ChannelAugmentation([[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1]])
    >>> gmm = cg.GMM.random(3, 5, random_state=0)
    >>> cg.predicted_subspace(gmm, merge).dim  # one of the two Fisher directions is lost
    1
    """

    def __init__(self, Q: ArrayLike) -> None:
        Q = check_float_array(Q, "Q")
        if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
            raise ValueError(f"Q must be a square K x K matrix; got shape {Q.shape}.")
        if np.any(Q < 0):
            raise ValueError(f"Q must have non-negative entries (probabilities); its smallest is {Q.min():.3g}.")
        if not np.allclose(Q.sum(axis=1), 1.0, atol=1e-8):
            raise ValueError(f"each row of Q must sum to 1 (row-stochastic); row sums are {np.round(Q.sum(axis=1), 6)}.")
        self.Q = Q / Q.sum(axis=1, keepdims=True)

    def transition_matrix(self, weights: np.ndarray) -> np.ndarray:
        """Q itself (its size must match the mixture's K)."""
        if self.Q.shape[0] != len(weights):
            raise ValueError(f"Q is {self.Q.shape[0]} x {self.Q.shape[0]} but the mixture has {len(weights)} components.")
        return self.Q

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and np.array_equal(self.Q, other.Q)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.Q.tobytes()))

    def __repr__(self) -> str:
        return f"ChannelAugmentation(Q={np.round(self.Q, 3).tolist()})"


def _check_augmentation(augmentation: Augmentation | None) -> Augmentation:
    if augmentation is None:
        return SameComponent()
    if not isinstance(augmentation, Augmentation):
        raise TypeError(
            "augmentation must be a contrastive_gmm Augmentation such as SameComponent() or "
            f"NoisyComponent(delta); got {augmentation!r}."
        )
    return augmentation


class GMM:
    """A Gaussian mixture in R^d with K components and one shared (within) covariance.

    Parameters
    ----------
    means : array of shape (K, d)
        Component means.
    covariance : array of shape (d, d)
        The within-component covariance S_W shared by every component (symmetric positive
        definite).
    weights : array of shape (K,), optional
        Mixture weights (a probability vector); uniform by default.

    Attributes
    ----------
    means, within_covariance, weights : the validated parameters.
    n_components, dim : K and d.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM(means=[[0.0, 0.0], [3.0, 0.0]], covariance=[[1.0, 0.0], [0.0, 9.0]])
    >>> X, z = gmm.sample(1000, random_state=0)
    >>> X.shape, gmm.fisher_subspace().shape
    ((1000, 2), (2, 1))
    """

    def __init__(self, means: ArrayLike, covariance: ArrayLike, weights: ArrayLike | None = None) -> None:
        M = check_float_array(means, "means")
        if M.ndim != 2:
            raise ValueError(f"means must be a 2-D array of shape (K, d); got shape {M.shape}.")
        if M.shape[0] < 2:
            raise ValueError(f"a mixture needs at least 2 components; means has {M.shape[0]} row(s).")
        self.means = M
        self.within_covariance = check_spd(covariance, dim=M.shape[1], name="covariance")
        self.weights = check_weights(weights, M.shape[0])
        self._chol = np.linalg.cholesky(self.within_covariance)

    @property
    def n_components(self) -> int:
        """Number of components K."""
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        """Ambient dimension d."""
        return self.means.shape[1]

    def __repr__(self) -> str:
        return f"GMM(n_components={self.n_components}, dim={self.dim})"

    # ------------------------------------------------------------------ construction
    @classmethod
    def random(
        cls,
        n_components: int,
        dim: int,
        *,
        separation: float = 3.0,
        anisotropy: float = 10.0,
        n_noise_directions: int | None = None,
        noise_variance: float = 25.0,
        rotate: bool = True,
        weights: ArrayLike | None = None,
        random_state: RandomState = None,
    ) -> "GMM":
        """A mixture where PCA fails but the Fisher subspace is well defined.

        The means are the vertices of a regular simplex of radius ``separation`` in a random
        (K-1)-dimensional signal subspace. The within covariance has eigenvalues spread
        log-uniformly over ``[1 / anisotropy, 1]`` in a random basis (``rotate=True``; else the
        coordinate basis), plus ``n_noise_directions`` directions orthogonal to the signal
        subspace whose variance is raised to ``noise_variance``: they carry no class signal but
        dominate the total covariance, so PCA picks them.

        Parameters
        ----------
        n_components, dim : int
            K >= 2 and d >= K - 1 + n_noise_directions.
        separation : float
            Distance of each mean from the centre, in units of the largest base within
            standard deviation.
        anisotropy : float >= 1
            Condition number of the base within covariance (1: isotropic).
        n_noise_directions : int, optional
            High-variance class-free directions; K - 1 by default (enough to fill PCA's top K - 1).
        noise_variance : float
            Variance along those directions.
        rotate : bool
            Rotate the base covariance's eigenbasis randomly against the means, so the
            Fisher subspace differs from the span of the means.
        weights : array of shape (K,), optional
            Mixture weights; uniform by default.
        random_state : int or Generator, optional
            Seed.

        Examples
        --------
        >>> import contrastive_gmm as cg
        >>> gmm = cg.GMM.random(6, 40, random_state=0)
        >>> gmm.means.shape, gmm.fisher_subspace().shape
        ((6, 40), (40, 5))
        """
        K = check_positive_int(n_components, "n_components")
        if K < 2:
            raise ValueError(f"n_components must be at least 2; got {K}.")
        d = check_positive_int(dim, "dim")
        n_noise = K - 1 if n_noise_directions is None else check_nonnegative_int(n_noise_directions, "n_noise_directions")
        if d < K - 1 + n_noise:
            raise ValueError(
                f"dim must be at least n_components - 1 + n_noise_directions = {K - 1 + n_noise}; got {d}."
            )
        check_positive(separation, "separation")
        if check_positive(anisotropy, "anisotropy") < 1:
            raise ValueError(f"anisotropy is a condition number and must be >= 1; got {anisotropy}.")
        check_positive(noise_variance, "noise_variance")
        rng = _rng(random_state)

        basis = np.linalg.qr(rng.standard_normal((d, d)))[0]
        signal, noise = basis[:, : K - 1], basis[:, K - 1 : K - 1 + n_noise]
        # Regular simplex: centred standard basis of R^K, expressed in K-1 orthonormal coordinates.
        simplex = np.eye(K) - 1.0 / K
        coords = np.linalg.svd(simplex)[0][:, : K - 1] * np.sqrt(K / (K - 1.0))
        coords = coords @ np.linalg.qr(rng.standard_normal((K - 1, K - 1)))[0]
        means = separation * coords @ signal.T

        eig = np.exp(rng.uniform(-np.log(anisotropy), 0.0, size=d))
        eig[[0, -1]] = 1.0, 1.0 / anisotropy  # make the condition number exact
        eig_basis = np.linalg.qr(rng.standard_normal((d, d)))[0] if rotate else np.eye(d)
        cov = (eig_basis * eig) @ eig_basis.T
        cov += noise_variance * noise @ noise.T
        return cls(means, (cov + cov.T) / 2, weights)

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, random_state: RandomState = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` points; returns ``(X, z)`` with X of shape (n, d) and labels z."""
        n = check_positive_int(n, "n")
        rng = _rng(random_state)
        z = rng.choice(self.n_components, size=n, p=self.weights)
        return self._draw(z, rng), z

    def sample_pairs(
        self, n: int, augmentation: Augmentation | None = None, random_state: RandomState = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Draw ``n`` positive pairs; returns ``(X, X_pos, z, z_pos)``.

        Each positive is an independent draw whose component comes from ``augmentation``
        (default :class:`SameComponent`). Labels are returned for evaluation only.
        """
        n = check_positive_int(n, "n")
        aug = _check_augmentation(augmentation)
        rng = _rng(random_state)
        z = rng.choice(self.n_components, size=n, p=self.weights)
        z_pos = aug.sample_components(z, self.weights, rng)
        return self._draw(z, rng), self._draw(z_pos, rng), z, z_pos

    def _draw(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.means[z] + rng.standard_normal((z.shape[0], self.dim)) @ self._chol.T

    # ------------------------------------------------------------------ population oracles
    @property
    def mean(self) -> np.ndarray:
        """The mixture mean sum_k pi_k mu_k."""
        return self.weights @ self.means

    def centred_means(self) -> np.ndarray:
        """K x d matrix of means minus the mixture mean."""
        return self.means - self.mean

    def between_scatter(self) -> np.ndarray:
        """S_B = sum_k pi_k (mu_k - mubar)(mu_k - mubar)^T."""
        M = self.centred_means()
        return (M.T * self.weights) @ M

    def total_covariance(self) -> np.ndarray:
        """Cov(x) = S_W + S_B."""
        return self.within_covariance + self.between_scatter()

    def pair_cross_covariance(self, augmentation: Augmentation | None = None) -> np.ndarray:
        """C = E[(x - mubar)(x_pos - mubar)^T] = M^T diag(pi) Q M for the augmentation's channel Q."""
        Q = _check_augmentation(augmentation).transition_matrix(self.weights)
        M = self.centred_means()
        return (M.T * self.weights) @ Q @ M

    def fisher_subspace(self, n_components: int | None = None) -> np.ndarray:
        """Orthonormal d x r basis of span{S_W^{-1}(mu_k - mubar)}: the top generalized eigenvectors of (S_B, S_W).

        ``n_components`` (default K - 1) keeps the r most discriminative directions.
        """
        rank = self.n_components - 1
        r = rank if n_components is None else check_n_components(n_components, min(rank, self.dim))
        vals, vecs = scipy.linalg.eigh(self.between_scatter(), self.within_covariance)
        top = vecs[:, np.argsort(vals)[::-1][:r]]
        return np.linalg.qr(top)[0]


@dataclass(frozen=True)
class Prediction:
    """What the closed form says contrastive learning finds for a mixture and an augmentation.

    Attributes
    ----------
    subspace : (d, k) array
        Orthonormal basis of the top-k generalized eigenvectors of (sym C, Cov).
    eigenvalues : array
        All generalized eigenvalues, decreasing (pair correlations of the directions).
    dim : int
        Number of eigenvalues above 1e-9: the dimension contrastive learning can recover.
    gap : float
        ``eigenvalues[k-1] - eigenvalues[k]``: small gaps mean slow, noisy learning of the subspace.
    """

    subspace: np.ndarray
    eigenvalues: np.ndarray
    dim: int
    gap: float


def predicted_subspace(gmm: GMM, augmentation: Augmentation | None = None, n_components: int | None = None) -> Prediction:
    """The subspace linear contrastive learning should find: ``sym(C) v = lambda Cov v``.

    ``C = E[(x - m)(x_pos - m)^T] = M^T diag(pi) Q M`` and ``Cov`` is the pooled covariance of
    anchors and positives (both centred at their pooled mean m, as the learners do). For
    channels that merge components this is a strict subset of the Fisher subspace.
    ``n_components`` defaults to the number of positive eigenvalues.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 8, random_state=0)
    >>> p = cg.predicted_subspace(gmm, cg.NoisyComponent(0.5))
    >>> p.dim, bool(cg.subspace_angles(p.subspace, gmm.fisher_subspace()).max() < 1e-6)
    (3, True)
    """
    aug = _check_augmentation(augmentation)
    if not isinstance(gmm, GMM):
        raise TypeError(f"gmm must be a contrastive_gmm.GMM; got {type(gmm).__name__}.")
    Q = aug.transition_matrix(gmm.weights)
    pos_weights = gmm.weights @ Q
    pooled = (gmm.weights + pos_weights) / 2
    M = gmm.means - pooled @ gmm.means
    C = (M.T * gmm.weights) @ Q @ M
    cov = gmm.within_covariance + (M.T * pooled) @ M
    vals, vecs = scipy.linalg.eigh((C + C.T) / 2, cov)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    dim = int(np.sum(vals > 1e-9))
    k = (dim or 1) if n_components is None else check_n_components(n_components, gmm.dim)
    gap = float(vals[k - 1] - vals[k]) if k < len(vals) else float(vals[k - 1])
    return Prediction(np.linalg.qr(vecs[:, :k])[0], vals, dim, gap)


__all__ = [
    "Augmentation",
    "SameComponent",
    "NoisyComponent",
    "ChannelAugmentation",
    "GMM",
    "Prediction",
    "predicted_subspace",
]
