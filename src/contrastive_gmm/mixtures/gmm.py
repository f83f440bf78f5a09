"""Gaussian mixtures (one shared covariance, or one per component), their augmentations and population oracles.

This is the first step of the data flow: a known mixture makes paired views ``(X, X_pos)``
and knows the closed-form answers (between scatter, Fisher subspace, pair cross-covariance)
that every learner is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.linalg
import scipy.special
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    InputTypeError,
    check_float_array,
    check_matrix,
    check_n_components,
    check_nonnegative_int,
    check_numeric,
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


def simplex_coordinates(K: int) -> np.ndarray:
    """The K vertices of a regular simplex of radius 1 centred at 0, as the rows of a (K, K-1) matrix.

    The centred standard basis ``e_i - 1/K`` in the Helmert basis of the sum-zero subspace
    (:func:`scipy.linalg.helmert`), scaled to unit norm. Why not the SVD of ``I - 1/K``: its K-1
    singular values are all equal, so LAPACK may return any basis of that subspace, and which one
    changed with the CPU's kernels: the same seed then drew another mixture on another machine.

    >>> V = simplex_coordinates(3)
    >>> V.shape, bool(np.allclose(np.linalg.norm(V, axis=1), 1)), bool(np.allclose(V.sum(0), 0))
    ((3, 2), True, True)
    """
    return scipy.linalg.helmert(K).T * np.sqrt(K / (K - 1.0))


class GMM:
    """A Gaussian mixture in R^d with K components: one shared covariance, or one per component.

    Parameters
    ----------
    means : array of shape (K, d)
        Component means.
    covariance : array of shape (d, d) or (K, d, d)
        Either the within-component covariance S_W shared by every component, or one covariance
        Sigma_k per component (heteroscedastic); each symmetric positive definite.
    weights : array of shape (K,), optional
        Mixture weights (a probability vector); uniform by default.

    Attributes
    ----------
    means, weights : the validated parameters.
    within_covariance : (d, d) array
        The within-class covariance S_W: the shared matrix, or for per-component covariances
        their weighted mean ``sum_k pi_k Sigma_k`` (the pooled within covariance LDA estimates).
        Either way ``total_covariance() = S_W + S_B``, and :meth:`fisher_subspace` is defined
        against it.
    covariances : (K, d, d) read-only array
        Each component's covariance (a shared one repeated K times).
    shared_covariance : bool
        Whether every component has the same covariance, as given (a (d, d) ``covariance``).
    n_components, dim : K and d.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM(means=[[0.0, 0.0], [3.0, 0.0]], covariance=[[1.0, 0.0], [0.0, 9.0]])
    >>> X, z = gmm.sample(1000, random_state=0)
    >>> X.shape, gmm.fisher_subspace().shape
    ((1000, 2), (2, 1))
    >>> het = cg.GMM(means=[[0.0, 0.0], [3.0, 0.0]], covariance=[np.eye(2), np.diag([1.0, 9.0])])
    >>> het.covariances.shape, het.within_covariance.tolist()
    ((2, 2, 2), [[1.0, 0.0], [0.0, 5.0]])
    """

    def __init__(self, means: ArrayLike, covariance: ArrayLike, weights: ArrayLike | None = None) -> None:
        M = check_float_array(means, "means")
        if M.ndim != 2:
            raise ValueError(f"means must be a 2-D array of shape (K, d); got shape {M.shape}.")
        if M.shape[0] < 2:
            raise ValueError(f"a mixture needs at least 2 components; means has {M.shape[0]} row(s).")
        self.means = M
        self.weights = check_weights(weights, M.shape[0])
        K, d = M.shape
        cov = check_numeric(covariance, "covariance")
        if cov.ndim == 3:
            if cov.shape[0] != K:
                raise ValueError(
                    f"covariance of shape {cov.shape} holds {cov.shape[0]} matrices but the mixture has {K} "
                    f"components (means has {K} rows); give one (d, d) matrix per component, or one shared (d, d)."
                )
            covs = np.stack([check_spd(c, dim=d, name=f"covariance[{k}] (component {k})") for k, c in enumerate(cov)])
            self._shared = False
            self.within_covariance = np.einsum("k,kij->ij", self.weights, covs)
            self.within_covariance = (self.within_covariance + self.within_covariance.T) / 2
            self._covariances = covs
            self._chol = np.linalg.cholesky(covs)
        elif cov.ndim == 2:
            self._shared = True
            self.within_covariance = check_spd(cov, dim=d, name="covariance")
            self._chol = np.linalg.cholesky(self.within_covariance)
        else:
            raise ValueError(
                f"covariance must be one shared (d, d) matrix or one (d, d) matrix per component, shape (K, d, d) = "
                f"({K}, {d}, {d}); got shape {cov.shape}."
            )

    @property
    def shared_covariance(self) -> bool:
        """True when every component has the one covariance given as a (d, d) matrix."""
        return self._shared

    @property
    def covariances(self) -> np.ndarray:
        """Each component's covariance, shape (K, d, d), read-only (a shared matrix is broadcast, not copied)."""
        if self._shared:
            return np.broadcast_to(self.within_covariance, (self.n_components, self.dim, self.dim))
        view = self._covariances.view()
        view.flags.writeable = False
        return view

    @property
    def n_components(self) -> int:
        """Number of components K."""
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        """Ambient dimension d."""
        return self.means.shape[1]

    def __repr__(self) -> str:
        per = "" if self._shared else ", covariances=per component"
        return f"GMM(n_components={self.n_components}, dim={self.dim}{per})"

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
        heteroscedasticity: float = 0.0,
        random_state: RandomState = None,
    ) -> "GMM":
        """A mixture where PCA fails but the Fisher subspace is well defined.

        The means are the vertices of a regular simplex of radius ``separation`` in a random
        (K-1)-dimensional signal subspace. The within covariance has eigenvalues spread
        log-uniformly over ``[1 / anisotropy, 1]`` in a random basis (``rotate=True``; else the
        coordinate basis), plus ``n_noise_directions`` directions orthogonal to the signal
        subspace whose variance is raised to ``noise_variance``: they carry no class signal but
        dominate the total covariance, so PCA picks them.

        With ``heteroscedasticity = h > 0`` each component gets its own covariance
        ``Sigma_k = L U_k diag(exp(h g_k)) U_k^T L^T``, where ``L L^T`` is the base covariance
        above, ``U_k`` a random rotation and ``g_k`` uniform on [-1, 1] with both ends taken:
        whitened by the base covariance, each Sigma_k has eigenvalues from ``e^-h`` to ``e^h``
        in its own random basis. Those draws come after every other one, so the means and base
        covariance are those of ``h = 0`` for the same seed, and ``h = 0`` (the default) is the
        shared-covariance mixture this method has always drawn.

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
        heteroscedasticity : float >= 0
            How far each component's covariance moves from the base one (``h`` above; 0: one
            shared covariance).
        random_state : int or Generator, optional
            Seed.

        Examples
        --------
        >>> import contrastive_gmm as cg
        >>> gmm = cg.GMM.random(6, 40, random_state=0)
        >>> gmm.means.shape, gmm.fisher_subspace().shape
        ((6, 40), (40, 5))
        >>> het = cg.GMM.random(6, 40, heteroscedasticity=1.0, random_state=0)
        >>> het.covariances.shape, bool(np.array_equal(het.means, gmm.means))
        ((6, 40, 40), True)
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
        h = check_float_array(heteroscedasticity, "heteroscedasticity", ndim=0)
        if h < 0:
            raise ValueError(f"heteroscedasticity must be >= 0 (0: one shared covariance); got {float(h)}.")
        rng = _rng(random_state)

        basis = np.linalg.qr(rng.standard_normal((d, d)))[0]
        signal, noise = basis[:, : K - 1], basis[:, K - 1 : K - 1 + n_noise]
        # Regular simplex: centred standard basis of R^K, expressed in K-1 orthonormal coordinates.
        coords = simplex_coordinates(K)
        coords = coords @ np.linalg.qr(rng.standard_normal((K - 1, K - 1)))[0]
        means = separation * coords @ signal.T

        eig = np.exp(rng.uniform(-np.log(anisotropy), 0.0, size=d))
        eig[[0, -1]] = 1.0, 1.0 / anisotropy  # make the condition number exact
        eig_basis = np.linalg.qr(rng.standard_normal((d, d)))[0] if rotate else np.eye(d)
        cov = (eig_basis * eig) @ eig_basis.T
        cov += noise_variance * noise @ noise.T
        cov = (cov + cov.T) / 2
        if h == 0:
            return cls(means, cov, weights)
        chol = np.linalg.cholesky(cov)
        covs = []
        for _ in range(K):
            A = chol @ np.linalg.qr(rng.standard_normal((d, d)))[0]
            g = rng.uniform(-1.0, 1.0, size=d)
            g[[0, -1]] = 1.0, -1.0  # the whitened spread is exactly [e^-h, e^h]
            S = (A * np.exp(float(h) * g)) @ A.T
            covs.append((S + S.T) / 2)
        return cls(means, np.stack(covs), weights)

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
        noise = rng.standard_normal((z.shape[0], self.dim))
        if self._shared:
            return self.means[z] + noise @ self._chol.T
        # The same standard normals as a shared mixture, each row coloured by its own component's factor.
        out = self.means[z].copy()
        for k in range(self.n_components):
            rows = z == k
            out[rows] += noise[rows] @ self._chol[k].T
        return out

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
        """Cov(x) = S_W + S_B, with S_W the (weighted mean) within covariance."""
        return self.within_covariance + self.between_scatter()

    def pair_cross_covariance(self, augmentation: Augmentation | None = None) -> np.ndarray:
        """C = E[(x - mubar)(x_pos - mubar)^T] = M^T diag(pi) Q M for the augmentation's channel Q.

        A pair's two points are independent given their components, so the components'
        covariances do not enter, shared or not.
        """
        Q = _check_augmentation(augmentation).transition_matrix(self.weights)
        M = self.centred_means()
        return (M.T * self.weights) @ Q @ M

    def fisher_subspace(self, n_components: int | None = None) -> np.ndarray:
        """Orthonormal d x r basis of span{S_W^{-1}(mu_k - mubar)}: the top generalized eigenvectors of (S_B, S_W).

        ``n_components`` (default K - 1) keeps the r most discriminative directions. With one
        covariance per component, S_W is their weighted mean (:attr:`within_covariance`): this is
        the subspace LDA estimates from labelled data (the same eigenvectors as against the total
        covariance S_W + S_B), not the best k-dimensional view for the Bayes rule, which also
        uses the covariances' differences.
        """
        rank = self.n_components - 1
        r = rank if n_components is None else check_n_components(n_components, min(rank, self.dim))
        vals, vecs = scipy.linalg.eigh(self.between_scatter(), self.within_covariance)
        top = vecs[:, np.argsort(vals)[::-1][:r]]
        return np.linalg.qr(top)[0]

    # ------------------------------------------------------------------ the Bayes rule
    def project(self, basis: ArrayLike) -> "GMM":
        """The mixture of ``x @ basis``: means ``mu_k B``, covariances ``B^T Sigma_k B``, the same weights.

        ``basis`` is a (d, k) matrix of full column rank (any learned subspace, say); the
        result is a k-dimensional :class:`GMM` that keeps a shared covariance shared.

        Examples
        --------
        >>> import contrastive_gmm as cg
        >>> gmm = cg.GMM.random(3, 6, heteroscedasticity=0.5, random_state=0)
        >>> flat = gmm.project(gmm.fisher_subspace())
        >>> flat.dim, flat.covariances.shape
        (2, (3, 2, 2))
        """
        B = check_float_array(basis, "basis")
        if B.ndim == 1:
            B = B[:, None]
        if B.ndim != 2 or B.shape[0] != self.dim:
            raise ValueError(f"basis must be a (d, k) matrix with d = {self.dim} rows; got shape {B.shape}.")
        if np.linalg.matrix_rank(B) < B.shape[1]:
            raise ValueError(f"basis must have full column rank; its {B.shape[1]} columns span less than {B.shape[1]} dimensions.")
        cov = B.T @ self.within_covariance @ B if self._shared else np.einsum("ia,kij,jb->kab", B, self._covariances, B)
        return GMM(self.means @ B, (cov + np.swapaxes(cov, -1, -2)) / 2, self.weights)

    def log_joint(self, X: ArrayLike) -> np.ndarray:
        """``log(pi_k) + log N(x; mu_k, Sigma_k)`` for each row of ``X`` (n, d) and component: an (n, K) array."""
        X = check_matrix(X, "X", min_samples=1).astype(np.float64, copy=False)
        if X.shape[1] != self.dim:
            raise ValueError(f"X has {X.shape[1]} features but the mixture has dimension {self.dim}.")
        chols = [self._chol] * self.n_components if self._shared else list(self._chol)
        out = np.empty((X.shape[0], self.n_components))
        for k, L in enumerate(chols):
            r = scipy.linalg.solve_triangular(L, (X - self.means[k]).T, lower=True)
            log_det = 2.0 * np.log(np.diag(L)).sum()
            out[:, k] = np.log(self.weights[k]) - 0.5 * (np.einsum("ij,ij->j", r, r) + log_det + self.dim * np.log(2 * np.pi))
        return out

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Posterior probability of each component for each row of ``X``: an (n, K) array whose rows sum to 1."""
        return scipy.special.softmax(self.log_joint(X), axis=1)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The Bayes rule: each row's most probable component (quadratic discriminant analysis with the true parameters).

        Its accuracy on a sample drawn from the mixture estimates the Bayes accuracy, the best
        any classifier can do; on ``gmm.project(B)`` and ``X @ B`` it is the best any
        classifier of the k-dimensional embedding can do.

        Examples
        --------
        >>> import contrastive_gmm as cg
        >>> gmm = cg.GMM(means=[[0.0], [4.0]], covariance=[[[1.0]], [[4.0]]])
        >>> gmm.predict([[0.5], [3.0], [-6.0]])
        array([0, 1, 1])
        """
        return np.argmax(self.log_joint(X), axis=1)


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
    anchors and positives (both centred at their pooled mean m, as the learners do):
    ``sum_k p_k (Sigma_k + (mu_k - m)(mu_k - m)^T)`` with ``p = (pi + pi Q) / 2``, so it stays
    well defined when each component has its own covariance. For channels that merge
    components this is a strict subset of the Fisher subspace; for channels that keep the
    weights (``pi Q = pi``: same-component and noisy pairs) it is the Fisher subspace of
    :meth:`GMM.fisher_subspace`, shared covariance or not. ``n_components`` defaults to the
    number of positive eigenvalues.

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
    # Anchors and positives pooled: a mixture with weights `pooled`, so its within part is sum_k pooled_k Sigma_k.
    within = gmm.within_covariance if gmm.shared_covariance else np.einsum("k,kij->ij", pooled, gmm.covariances)
    cov = within + (M.T * pooled) @ M
    vals, vecs = scipy.linalg.eigh((C + C.T) / 2, cov)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    dim = int(np.sum(vals > 1e-9))
    k = (dim or 1) if n_components is None else check_n_components(n_components, gmm.dim)
    gap = float(vals[k - 1] - vals[k]) if k < len(vals) else float(vals[k - 1])
    return Prediction(np.linalg.qr(vecs[:, :k])[0], vals, dim, gap)


__all__ = [
    "simplex_coordinates",
    "Augmentation",
    "SameComponent",
    "NoisyComponent",
    "ChannelAugmentation",
    "GMM",
    "Prediction",
    "predicted_subspace",
]
