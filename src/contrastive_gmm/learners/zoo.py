"""A loss zoo: the other self-supervised losses people use, as linear learners with InfoNCE's API.

Each learner trains one linear map (``SigLIP``: one per modality) in whitened coordinates from
a random start, and is checked against :func:`~contrastive_gmm.predicted_subspace`:

- :class:`SpectralContrastiveLearner`: HaoChen et al.'s spectral contrastive loss, trained;
- :class:`SimCLR`: NT-Xent over both views of each pair (2B - 2 negatives per anchor);
- :class:`SupCon`: supervised contrastive, labels as groups;
- :class:`SimSiam`: no negatives; linear predictor and stop-gradient;
- :class:`BarlowTwins`: cross-correlation of the two views driven to the identity;
- :class:`VICReg`: invariance, variance and covariance terms.

(SigLIP, the sigmoid pairwise loss for two modalities, is in :mod:`~contrastive_gmm.learners.two_tower`.)
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    SIMILARITIES,
    Similarity,
    check_choice,
    check_classes,
    check_labels,
    check_matrix,
    check_positive,
)
from contrastive_gmm.learners.base import warn_if_beyond_classes, weighted_rows
from contrastive_gmm.learners.rank import resolve_n_components
from contrastive_gmm.learners.training import (
    BATCH_SIZE,
    LR,
    PATIENCE,
    TOL,
    _torch_generator,
    _TrainedLinear,
    check_device,
)
from contrastive_gmm.linalg import REG_AUTO
from contrastive_gmm.losses._common import LossFn
from contrastive_gmm.losses.barlow_twins import barlow_twins_loss
from contrastive_gmm.losses.nt_xent import nt_xent_loss
from contrastive_gmm.losses.simsiam import simsiam_loss
from contrastive_gmm.losses.spectral import spectral_contrastive_loss
from contrastive_gmm.losses.supcon import supcon_loss
from contrastive_gmm.losses.vicreg import vicreg_loss

# ---------------------------------------------------------------------------- losses


# ---------------------------------------------------------------------------- learners
class _PairLearner(_TrainedLinear):
    """Shared fit: validate, centre, whiten, train one map from a random start, diagnose."""

    _desc = "fit"

    def _common_init(self, n_components, whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose,
                     pair_whiten) -> None:
        self.n_components = n_components
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

    def _make_loss(self, k: int, device: torch.device) -> tuple[LossFn, tuple[torch.Tensor, ...]]:
        raise NotImplementedError

    def _fit_views(
        self, X: np.ndarray, X_pos: np.ndarray, gen: torch.Generator, labels: np.ndarray | None = None, y: ArrayLike | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        """Validate, then train; ``labels`` go to the loss, ``y`` is fit's own second argument (for the k > K - 1 warning)."""
        k = resolve_n_components(self, X, X_pos, y if labels is None else labels, sample_weight=weights)
        warn_if_beyond_classes(k, y if labels is None else labels, type(self).__name__)
        self._check_training_params()
        loss_fn, extra = self._make_loss(k, check_device(self.device))
        self._train_whitened(X, X_pos, k, loss_fn, gen, extra_params=extra, labels=labels, desc=self._desc, weights=weights)

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "_PairLearner":
        """Learn the map from ``X`` and its row-paired positives ``y = X_pos`` (or class labels, as InfoNCE does).

        ``sample_weight`` (n,): weighted moments and weighted batch draws, as for :meth:`~contrastive_gmm.InfoNCE.fit`.
        """
        gen = _torch_generator(self.random_state)
        self._check_distributed()
        X, y, w = weighted_rows(X, y, sample_weight)
        X, X_pos, w = self._views(X, y, gen, w)
        self._fit_views(X, X_pos, gen, y=y, weights=w)
        return self


class SpectralContrastiveLearner(_PairLearner):
    """Linear map trained with the spectral contrastive loss (HaoChen et al.), from a random start.

    Its population optimum over unconstrained linear maps is the pair-CCA (Fisher) subspace with
    each direction scaled by its pair correlation, so it needs no output whitening to keep every
    direction (``whiten_output=False`` by default).

    Parameters
    ----------
    n_components : int or "auto"
        Embedding dimension.
        ``"auto"``: as many as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_n_components`), stored in ``n_components_``.
    whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten
        As for :class:`~contrastive_gmm.InfoNCE`.
    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.SpectralContrastiveLearner(3, random_state=0).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    _desc = "spectral"
    _collapse_hint = "try whiten_output=True (the embedding then keeps identity covariance)"

    def __init__(self, n_components: int = 2, *, whiten_output: bool = False, batch_size: int = BATCH_SIZE, max_epochs: int | None = None,
                 lr: float = LR, tol: float = TOL, patience: int = PATIENCE, reg: float | str = REG_AUTO,
                 random_state: int | None = None, device: str = "cpu", verbose: bool = False, pair_whiten: bool = True) -> None:
        self._common_init(n_components, whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten)

    def _make_loss(self, k: int, device: torch.device) -> tuple[LossFn, tuple[torch.Tensor, ...]]:
        return spectral_contrastive_loss, ()


class _SoftmaxPairLearner(_PairLearner):
    """Shared parameters of the softmax losses (SimCLR, SupCon): a temperature and a similarity.

    The defaults are InfoNCE's (dot similarity at temperature 10 on whitened outputs), for InfoNCE's reasons.
    """

    def __init__(self, n_components: int = 2, *, temperature: float = 10.0, similarity: Similarity = "dot", whiten_output: bool = True,
                 batch_size: int = BATCH_SIZE, max_epochs: int | None = None, lr: float = LR, tol: float = TOL, patience: int = PATIENCE,
                 reg: float | str = REG_AUTO, random_state: int | None = None, device: str = "cpu", verbose: bool = False,
                 pair_whiten: bool = True) -> None:
        self.temperature = temperature
        self.similarity = similarity
        self._common_init(n_components, whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten)

    def _softmax_params(self) -> tuple[float, str]:
        return check_positive(self.temperature, "temperature"), check_choice(self.similarity, "similarity", SIMILARITIES)


class SimCLR(_SoftmaxPairLearner):
    """Linear map trained with NT-Xent (SimCLR): both views of every pair are anchors.

    Parameters
    ----------
    n_components : int or "auto"
        Embedding dimension.
        ``"auto"``: as many as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_n_components`), stored in ``n_components_``.
    temperature : float
        Softmax temperature.
    similarity : {"cosine", "dot"}
        Similarity of embeddings.
    whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten, distributed
        As for :class:`~contrastive_gmm.InfoNCE` (``distributed``: train across a ``torch.distributed`` group).
    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.SimCLR(3, random_state=0).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    _desc = "SimCLR"

    def __init__(self, n_components: int = 2, *, temperature: float = 10.0, similarity: Similarity = "dot", whiten_output: bool = True,
                 batch_size: int = BATCH_SIZE, max_epochs: int | None = None, lr: float = LR, tol: float = TOL, patience: int = PATIENCE,
                 reg: float | str = REG_AUTO, random_state: int | None = None, device: str = "cpu", verbose: bool = False,
                 pair_whiten: bool = True, distributed: bool = False) -> None:
        super().__init__(n_components, temperature=temperature, similarity=similarity, whiten_output=whiten_output, batch_size=batch_size,
                         max_epochs=max_epochs, lr=lr, tol=tol, patience=patience, reg=reg, random_state=random_state, device=device,
                         verbose=verbose, pair_whiten=pair_whiten)
        self.distributed = distributed

    def _make_loss(self, k: int, device: torch.device) -> tuple[LossFn, tuple[torch.Tensor, ...]]:
        tau, sim = self._softmax_params()
        return (lambda a, b: nt_xent_loss(a, b, tau, sim)), ()


class SupCon(_SoftmaxPairLearner):
    """Linear map trained with the supervised contrastive loss: samples sharing a label are positives.

    ``fit(X, y)`` takes labels (or any group ids), not pairs. With labels it is a supervised
    method, the contrastive counterpart of LDA.

    Parameters
    ----------
    n_components : int or "auto"
        Embedding dimension.
        ``"auto"``: as many as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_n_components`), stored in ``n_components_``.
    temperature : float
        Softmax temperature.
    similarity : {"cosine", "dot"}
        Similarity of embeddings.
    whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten
        As for :class:`~contrastive_gmm.InfoNCE`.
    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, y = gmm.sample(5000, random_state=0)
    >>> model = cg.SupCon(3, random_state=0).fit(X, y)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    _desc = "SupCon"

    def _make_loss(self, k: int, device: torch.device) -> tuple[LossFn, tuple[torch.Tensor, ...]]:
        tau, sim = self._softmax_params()
        return (lambda a, b, labels: supcon_loss(a, labels, tau, sim)), ()

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "SupCon":
        """Learn the map from samples ``X`` and their labels ``y``.

        ``sample_weight`` (n,): weighted moments, class means and batch draws, as for :meth:`~contrastive_gmm.InfoNCE.fit`.
        """
        X = check_matrix(X, "X")
        if y is None:
            raise ValueError("SupCon requires y to be passed, but the target y is None: call fit(X, y) with labels.")
        y = check_labels(y, X.shape[0])
        X, y, w = weighted_rows(X, y, sample_weight)
        check_classes(y, "y")  # one class: every sample a positive, no negatives, nothing to learn
        _, codes = np.unique(y, return_inverse=True)
        # The map is learnt from X alone; the pooled moments of (X, X) are X's own.
        self._fit_views(X, X, _torch_generator(self.random_state), labels=codes, weights=w)
        return self


class SimSiam(_PairLearner):
    """Linear SimSiam: encoder map, linear predictor, stop-gradient; no negatives.

    The default loss (``similarity="dot"``) standardises each embedding dimension over the batch
    (the BatchNorm that ends SimSiam's projector) and takes the squared error between the
    predicted view and the other, stopped-gradient view; ``similarity="cosine"`` is Chen & He's
    negative cosine. The output is whitened by default (orthonormal rows in whitened
    coordinates, as W-MSE does), so no direction can collapse.

    Why these defaults (``benchmarks/real_data_defaults.py``, raw features, same-class pairs,
    5 seeds): the former default (cosine, unwhitened) reached held-out NMI 0.79 +- 0.10 on raw
    digits against pair CCA's 0.90 (``closed_form_share_`` about 0.8): the per-row cosine re-weights
    heavy-tailed rows, and an unstandardised squared error is won by directions of tiny variance
    (4-5 of 9 rows went there). The default reaches 0.88 +- 0.02 against pair CCA's 0.90; it
    lags on the weakest direction, which the predictor learns last (its gradient scales with the
    predictor's own weight on it). On ``GMM.random(6, 40)`` (the ``loss_zoo`` study, quick run,
    3 seeds) the default is 6.3, 14.4 and 6.0 degrees from the predicted subspace under the
    same-component, noisy and merging channels, against pair CCA's 6.0, 14.2 and 6.0; without a predictor
    (``predictor=False``) the cosine loss on unwhitened outputs collapses to rank one (a
    :class:`~contrastive_gmm.CollapseWarning` is raised): the collapse Chen & He report.

    Parameters
    ----------
    n_components : int or "auto"
        Embedding dimension.
        ``"auto"``: as many as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_n_components`), stored in ``n_components_``.
    predictor : bool
        Learn the linear predictor (else it stays the identity).
    similarity : {"dot", "cosine"}
        ``"dot"``: batch-standardised squared error (the default); ``"cosine"``: negative cosine.
    whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten
        As for :class:`~contrastive_gmm.InfoNCE`.
    Attributes
    ----------
    predictor_ : (k, k) array
        The learned linear predictor.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.SimSiam(3, random_state=0).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    _desc = "SimSiam"
    _collapse_hint = "keep predictor=True, or set whiten_output=True"

    def __init__(self, n_components: int = 2, *, predictor: bool = True, similarity: Similarity = "dot", whiten_output: bool = True,
                 batch_size: int = BATCH_SIZE, max_epochs: int | None = None, lr: float = LR, tol: float = TOL, patience: int = PATIENCE,
                 reg: float | str = REG_AUTO, random_state: int | None = None, device: str = "cpu", verbose: bool = False,
                 pair_whiten: bool = True) -> None:
        self.predictor = predictor
        self.similarity = similarity
        self._common_init(n_components, whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten)

    def _make_loss(self, k: int, device: torch.device) -> tuple[LossFn, tuple[torch.Tensor, ...]]:
        similarity = check_choice(self.similarity, "similarity", SIMILARITIES)
        # Start the predictor at the identity, as DirectPred-style analyses of linear SimSiam do;
        # predictor=False keeps it fixed there (the ablation that collapses in Chen & He 2021).
        self._predictor = torch.eye(k, device=device).requires_grad_(bool(self.predictor))
        predictor = self._predictor
        return (lambda a, b: simsiam_loss(a, b, predictor, similarity)), ((predictor,) if self.predictor else ())

    def _fit_views(
        self, X: np.ndarray, X_pos: np.ndarray, gen: torch.Generator, labels: np.ndarray | None = None, y: ArrayLike | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        super()._fit_views(X, X_pos, gen, labels, y, weights)
        self.predictor_ = self._predictor.detach().cpu().double().numpy()
        del self._predictor


class BarlowTwins(_PairLearner):
    """Linear map trained with the Barlow Twins loss (Zbontar et al. 2021): cross-correlation driven to the identity.

    Each embedding dimension is standardised over the batch, so the scale of a row does not
    matter and the output needs no whitening (``whiten_output=False`` by default); the
    off-diagonal term keeps the dimensions decorrelated. Its linear optimum is the pair-CCA
    subspace (:class:`~contrastive_gmm.PairCCA`).

    Parameters
    ----------
    n_components : int or "auto"
        Embedding dimension.
        ``"auto"``: as many as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_n_components`), stored in ``n_components_``.
    lambda_offdiag : float or None
        Weight of the redundancy (off-diagonal) term; ``None``: ``1 / n_components`` (the paper's
        5e-3 is for 8192 dimensions; with a handful, the diagonal would drown it).
    whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten
        As for :class:`~contrastive_gmm.InfoNCE`.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.BarlowTwins(3, random_state=0).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    _desc = "barlow twins"
    _collapse_hint = "try whiten_output=True (orthonormal rows) or a larger lambda_offdiag"

    def __init__(self, n_components: int = 2, *, lambda_offdiag: float | None = None, whiten_output: bool = False,
                 batch_size: int = BATCH_SIZE, max_epochs: int | None = None, lr: float = LR, tol: float = TOL,
                 patience: int = PATIENCE, reg: float | str = REG_AUTO, random_state: int | None = None, device: str = "cpu",
                 verbose: bool = False, pair_whiten: bool = True) -> None:
        self.lambda_offdiag = lambda_offdiag
        self._common_init(n_components, whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten)

    def _make_loss(self, k: int, device: torch.device) -> tuple[LossFn, tuple[torch.Tensor, ...]]:
        lam = 1.0 / k if self.lambda_offdiag is None else check_positive(self.lambda_offdiag, "lambda_offdiag")
        return (lambda a, b: barlow_twins_loss(a, b, lam)), ()


class VICReg(_PairLearner):
    """Linear map trained with VICReg (Bardes, Ponce, LeCun 2022): invariance, variance and covariance terms.

    The variance term keeps every dimension's standard deviation at 1 or more and the
    covariance term decorrelates them, so no output whitening is needed
    (``whiten_output=False`` by default). Its linear optimum is the pair-CCA subspace.

    Parameters
    ----------
    n_components : int or "auto"
        Embedding dimension.
        ``"auto"``: as many as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_n_components`), stored in ``n_components_``.
    lambda_inv, lambda_var, lambda_cov : float
        The weights of the invariance, variance and covariance terms (the paper's 25, 25, 1).
    whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten
        As for :class:`~contrastive_gmm.InfoNCE`.

    Examples
    --------
    >>> import contrastive_gmm as cg
    >>> gmm = cg.GMM.random(4, 10, random_state=0)
    >>> X, X_pos, _, _ = gmm.sample_pairs(5000, random_state=0)
    >>> model = cg.VICReg(3, random_state=0).fit(X, X_pos)
    >>> bool(cg.subspace_angles(model.subspace(), gmm.fisher_subspace()).max() < 10)
    True
    """

    _desc = "vicreg"
    _collapse_hint = "try a larger lambda_var, or whiten_output=True (orthonormal rows)"

    def __init__(self, n_components: int = 2, *, lambda_inv: float = 25.0, lambda_var: float = 25.0, lambda_cov: float = 1.0,
                 whiten_output: bool = False, batch_size: int = BATCH_SIZE, max_epochs: int | None = None, lr: float = LR,
                 tol: float = TOL, patience: int = PATIENCE, reg: float | str = REG_AUTO, random_state: int | None = None,
                 device: str = "cpu", verbose: bool = False, pair_whiten: bool = True) -> None:
        self.lambda_inv, self.lambda_var, self.lambda_cov = lambda_inv, lambda_var, lambda_cov
        self._common_init(n_components, whiten_output, batch_size, max_epochs, lr, tol, patience, reg, random_state, device, verbose, pair_whiten)

    def _make_loss(self, k: int, device: torch.device) -> tuple[LossFn, tuple[torch.Tensor, ...]]:
        weights = [check_positive(getattr(self, n), n) for n in ("lambda_inv", "lambda_var", "lambda_cov")]
        return (lambda a, b: vicreg_loss(a, b, *weights)), ()


__all__ = ["SpectralContrastiveLearner", "SimCLR", "SupCon", "SimSiam", "BarlowTwins", "VICReg"]
