"""Linear InfoNCE, the library's main learner: the contrastive loss of the paper, trained in whitened coordinates."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    SIMILARITIES,
    Similarity,
    check_choice,
    check_n_components,
    check_positive,
)
from contrastive_gmm.learners.base import warn_if_beyond_classes, weighted_rows
from contrastive_gmm.learners.rank import resolve_n_components
from contrastive_gmm.learners.training import (
    _DTYPES,
    check_batch_dtype,
    _INFONCE_HALVINGS,
    _MAX_HALVINGS,
    BATCH_SIZE,
    INITS,
    LR,
    PATIENCE,
    TOL,
    _torch_generator,
    _TrainedLinear,
)
from contrastive_gmm.linalg import REG_AUTO
from contrastive_gmm.losses.infonce import info_nce_unchecked


class InfoNCE(_TrainedLinear):
    """Linear InfoNCE on positive pairs: learns a k x d map whose row space is the Fisher subspace.

    Each row of ``X`` is paired with the same row of ``X_pos``; the other rows in a batch are
    negatives. Data are centred with the pooled mean of both views; training runs in whitened
    coordinates (a preconditioning that leaves the optimum over linear maps unchanged, see the
    module docstring), from a random initialisation, with Adam, and stops at the first plateau
    of the loss, returning the average of the iterates over that plateau (Polyak averaging).

    Why stop so early: once the loss stops improving, the iterates only jitter around the
    optimum with the noise of the mini-batches, and their average removes that noise. Cooling
    the learning rate down instead (``average=False``: halve it at each plateau, stop at the
    fourth) needs 2-3x more epochs to reach the same or a worse angle
    (``benchmarks/speed.py``).

    Why the defaults: with ``whiten_output=True`` the map is restricted to embeddings with
    identity covariance on the training data (orthonormal rows in whitened coordinates), so no
    direction can collapse and the loss alone decides *which* k-dimensional subspace to keep
    (unconstrained cosine InfoNCE collapses weak Fisher directions once the separations are
    unequal). With that constraint, dot similarity tends to pair CCA as the temperature grows
    (the small-logit expansion), and temperature 10 is close to it: on
    ``benchmarks/fisher_recovery.py`` 1.04-1.25x LDA's (or, with noisy pairs, pair CCA's) angle,
    as cosine at temperature 2 (the default before, 0.97-1.25x); at temperature 5 1.08-1.24x, at
    2 up to 2.1x, at 1 up to 2.9x. Cosine similarity fails on raw real features: normalising
    each embedding re-weights rows by their norm, which heavy-tailed whitened pixels make
    uneven (raw digits: held-out NMI 0.60-0.69 at temperature 2 against 0.90 now; see
    ``benchmarks/real_data_defaults.py``). The covariance is shrunk (``reg="auto"``) and the
    output pair-whitened (``pair_whiten``) for the same data.

    Parameters
    ----------
    n_components : int or "auto"
        Dimension k of the embedding (K - 1 for the whole Fisher subspace of K components).
        ``"auto"``: as many as stand above a shuffled-pairs null
        (:func:`~contrastive_gmm.estimate_n_components`), stored in ``n_components_``.
    temperature : float
        Softmax temperature. With ``whiten_output`` and dot similarity, larger values move the
        optimum towards pair CCA's. For ``similarity="dot"`` with ``whiten_output=False`` the
        optimum does not depend on it (the map's scale absorbs it).
    similarity : {"cosine", "dot"}
        Similarity of embeddings.
    symmetric : bool
        Average both directions of the loss (X -> X_pos and X_pos -> X).
    whiten_output : bool
        Constrain the embedding to identity covariance on the training data (see above).
        ``False`` trains an unconstrained linear map, which can collapse: watch
        ``singular_values_`` and :class:`CollapseWarning`.
    pair_whiten : bool
        After training, express the embedding in coordinates where a row minus its positive has
        identity covariance (:func:`~contrastive_gmm.learners.closed_form.pair_scaling`): for same-class
        pairs, LDA's within-class whitening, without labels. The subspace is unchanged; what
        changes is the weight k-means or a nearest-neighbour rule gives each direction (held-out
        NMI on raw digits 0.85 -> 0.90, the level of LDA). ``False``: the embedding as trained
        (identity covariance on the training data when ``whiten_output``).
    batch_size : int
        Pairs per batch; each anchor sees ``batch_size - 1`` negatives.
    max_epochs : int or None
        Upper bound on passes over the data. None (default): at least 200 and at least 20
        progress checks (each at least 64 steps), so a data set of a few hundred rows, one step
        per epoch, still gets over a thousand steps; the plateau rule usually stops earlier.
    lr : float
        Adam's initial learning rate (in whitened coordinates, so it does not depend on scale).
    tol, patience : float, int
        Plateau detection: a plateau is ``patience`` progress checks (each one or more epochs, at
        least 64 steps) without a relative improvement of ``tol`` in the mean loss.
    reg : "auto" or float
        Regularisation of the pooled covariance used for the whitening. ``"auto"`` (default):
        shrink its correlations by the Ledoit-Wolf intensity estimated from the
        data on standardised features (as scikit-learn's LDA with ``shrinkage="auto"``; see
        :func:`~contrastive_gmm.linalg.covariance_regularisation`): large samples keep their
        covariance (intensity 5e-4 to 8e-4 on 20000 mixture pairs), small ones in many dimensions stop
        blowing up their weakest directions (raw digits: 0.08). A number is a ridge relative to
        the mean eigenvalue (``1e-6`` was the default before: the sample covariance).
    init : {"random", "pair_cca"}
        Starting map. ``"random"`` (default) is what shows that InfoNCE *finds* the Fisher
        subspace by itself; ``"pair_cca"`` starts from the closed form (the small-logit limit of
        InfoNCE, already within ~1-2 degrees of InfoNCE's optimum). Both reach the same optimum;
        the warm start does not shorten the fit much, because the stop still waits for a
        plateau of whole epochs (``benchmarks/speed.py``).
    average : bool
        Return the average of the iterates over the final plateau and stop at the first plateau
        (default). ``False``: return the last iterate, halving the learning rate at each plateau
        and stopping at the fourth (slower; the schedule before averaging existed).
    dtype : {"float32", "float64"}
        Precision of the data and the map during training (the loss is never computed below
        float32). float64 costs ~1.2x the time on CPU and changes the angle by a fraction of a degree.
    batch_dtype : {None, "float16", "bfloat16"}
        Keep the whitened copy of the training pairs in half precision (half its memory, and
        data that fits the copy longer before batches are whitened on the fly); each batch is
        cast back to ``dtype`` before it meets the map, and the map and Adam stay in ``dtype``.
        None (default): the copy is in ``dtype``. See ``benchmarks/scale.py`` for its cost in angle.
    random_state : int, numpy Generator or None
        Seed of the initialisation, of the batch order and (when ``fit`` gets labels) of the
        same-class partners. On CPU with ``batch_size <= 2048`` the same seed gives
        bit-identical components whatever the thread count; larger batches use torch's threads
        and agree to ~1e-7 across thread counts. GPU runs are not bitwise reproducible unless
        ``torch.use_deterministic_algorithms(True)``.
    device : str
        Torch device, e.g. ``"cpu"`` or ``"cuda"``. On CPU, with ``batch_size <= 2048``, the
        training loop runs on one torch thread (restored afterwards): its matrices are small,
        and extra threads only add synchronisation (20-40x slower fits on a loaded machine).
    verbose : bool
        Show a progress bar.
    distributed : bool
        Train across an initialised ``torch.distributed`` process group (gloo on CPU, nccl on
        GPU; ``torchrun`` or any launcher), each process calling ``fit`` on its own shard of the
        pairs (row counts may differ): the whitening moments are summed over all shards, every
        step's negatives are gathered from every process (``batch_size`` pairs in all), the
        gradients are averaged, and every process ends with the same ``components_``. Without
        a process group (or with one process) the ordinary fit. Needs an integer ``n_components``.

    Attributes
    ----------
    components_ : ndarray (k, d)
        The learned map in input coordinates: ``transform(X) = (X - mean_) @ components_.T``
        (pair-whitened when ``pair_whiten``).
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
    closed_form_correlations_ : ndarray (k,)
        The self-check's reference: the pair correlations of the closed form (pair CCA) fitted on
        the same pairs in the same whitening (what :class:`~contrastive_gmm.PairCCA` finds).
    closed_form_share_ : float
        ``pair_correlations_.sum() / closed_form_correlations_.sum()``: how much of the closed
        form's pair correlation the trained map keeps (about 0.97-1 when training went well).
        Below 0.8 a :class:`ClosedFormWarning` gives both figures.
    shrinkage_ : float
        Ledoit-Wolf intensity of the covariance used for the whitening (0 when ``reg`` is a number).
    n_iter_ : int
        Epochs run.
    n_averaged_steps_ : int
        Steps whose iterates were averaged into the returned map (0 when ``average=False``).
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
        *,
        temperature: float = 10.0,
        similarity: Similarity = "dot",
        symmetric: bool = True,
        whiten_output: bool = True,
        pair_whiten: bool = True,
        batch_size: int = BATCH_SIZE,
        max_epochs: int | None = None,
        lr: float = LR,
        tol: float = TOL,
        patience: int = PATIENCE,
        reg: float | str = REG_AUTO,
        init: Literal["random", "pair_cca"] = "random",
        average: bool = True,
        dtype: str = "float32",
        batch_dtype: str | None = None,
        random_state: int | None = None,
        device: str = "cpu",
        verbose: bool = False,
        distributed: bool = False,
    ) -> None:
        self.n_components = n_components
        self.temperature = temperature
        self.similarity = similarity
        self.symmetric = symmetric
        self.whiten_output = whiten_output
        self.pair_whiten = pair_whiten
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.tol = tol
        self.patience = patience
        self.reg = reg
        self.init = init
        self.average = average
        self.dtype = dtype
        self.batch_dtype = batch_dtype
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.distributed = distributed

    def _check_params(self, d: int) -> int:
        check_positive(self.temperature, "temperature")
        check_choice(self.similarity, "similarity", SIMILARITIES)
        self._check_training_params()
        check_choice(self.init, "init", INITS)
        check_choice(self.dtype, "dtype", tuple(_DTYPES))
        check_batch_dtype(self.batch_dtype)
        return check_n_components(self.n_components, d, allow_auto=True)

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> "InfoNCE":
        """Learn the map from row-paired views: ``X`` (n, d) and its positives ``y = X_pos`` (n, d).

        ``y`` may instead be class labels (1-D, one per row of ``X``): each row is then paired
        with a random other row of its class (so the learner works in a scikit-learn
        ``Pipeline`` or ``GridSearchCV``, which pass labels as ``y``). ``sample_weight`` (n,),
        non-negative: row i counts ``sample_weight[i]`` times in the whitening moments (as for
        :meth:`~contrastive_gmm.PairCCA.fit`), and each epoch draws its batches' rows with
        probability proportional to their weight (a weight of 0 leaves the row out).
        """
        gen = _torch_generator(self.random_state)
        self._check_distributed()
        X, y, w = weighted_rows(X, y, sample_weight)
        X, X_pos, w = self._views(X, y, gen, w)
        k = resolve_n_components(self, X, X_pos, y, n_components=self._check_params(X.shape[1]), sample_weight=w)
        warn_if_beyond_classes(k, y, type(self).__name__)
        scale, similarity, symmetric = 1.0 / float(self.temperature), self.similarity, bool(self.symmetric)
        # Pair CCA in whitened coordinates: the top eigenvectors of the whitened cross-covariance.
        pair_cca = lambda cw: np.linalg.eigh(cw)[1][:, ::-1][:, :k].T.copy()  # noqa: E731
        history = self._train_whitened(
            X, X_pos, k, lambda a, b: info_nce_unchecked(a, b, scale, similarity, symmetric), gen,
            init=pair_cca if self.init == "pair_cca" else None,
            dtype=_DTYPES[self.dtype],
            storage=check_batch_dtype(self.batch_dtype),
            desc="InfoNCE",
            max_halvings=_INFONCE_HALVINGS if self.average else _MAX_HALVINGS,
            average=bool(self.average),
            weights=w,
        )
        self.n_averaged_steps_ = history["averaged_steps"]
        return self


__all__ = ["InfoNCE"]
