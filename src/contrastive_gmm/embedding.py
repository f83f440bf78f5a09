"""Real data: contrastive projections of real features and of real two-view data, against LDA and PCA.

The protocol, per seed: a stratified train/test split; on the training split, default
:class:`~contrastive_gmm.InfoNCE` (``InfoNCE(k, random_state=seed)``) on same-class pairs
(:func:`~contrastive_gmm.pair_indices_from_labels`, a fraction ``delta`` of partners from any
class), closed-form pair CCA on the same pairs, LDA on the labels, PCA, and the raw features;
every map embeds the test split, which is scored by k-means (K clusters: NMI, ARI, Hungarian
accuracy) and a logistic-regression probe trained on the embedded training split. On two
views of each object (:func:`~contrastive_gmm.load_digits_views`) default
:class:`~contrastive_gmm.CLIP` is fitted across the views and compared with per-view PCA
and per-view LDA; CLIP also gets held-out cross-view retrieval top-1.

Three choices, each measured on digits at k = 9 (held-out NMI; ``benchmarks/real_data.py``),
with the learners' former defaults (cosine similarity at temperature 2, the sample covariance,
embeddings of identity covariance). The learners now shrink their covariance, use dot
similarity and pair-whiten their own output, and reach LDA on the raw features without this
protocol's preprocessing (``benchmarks/real_data_defaults.py``); the protocol keeps its steps,
which remain a fair, fixed recipe (pair whitening an already pair-whitened embedding changes nothing):

1. *Preprocessing* (every learner but PCA and raw features): keep the top principal
   directions holding 99% of the training variance (41 of digits' 64). Digits has pixels
   that are constant or lit in a handful of training images. InfoNCE trains in whitened
   coordinates, where such a pixel becomes a huge, heavy-tailed coordinate, and cosine
   InfoNCE spent its directions on them: its pair correlations fell to ~0 after 3-5 of 9
   directions and held-out NMI was 0.60-0.76 against LDA's 0.88-0.92. Standardising the
   pixels changes nothing (whitening is invariant to per-feature scale); a larger ``reg``
   (1e-2) helped only partly (0.81). LDA on the preprocessed features is also slightly
   better than on raw pixels, so it stays the (stronger) reference.
2. *Pairs*: ``n_pairs_per_sample = 10`` partners per training row instead of 1: more distinct
   positives per class. Held-out NMI (3 seeds) went from 0.90 to 0.91 at delta = 0 and from
   0.87 to 0.89 at delta = 0.3; 20 per row added under 0.005 more.
3. *Metric* (``pair_whitened``): InfoNCE's embedding has identity covariance, so in k-means
   every learned direction weighs the same, weak ones (mostly within-class noise) included,
   while LDA's transform whitens the within-class covariance. Expressing the learned
   embedding in coordinates where the difference between a row and its positive has
   identity covariance (:func:`pair_whitening`: closed form, from the training pairs, no
   labels; ``Cov(x - x+) / 2`` is exactly the within-class covariance for same-class pairs)
   is the unlabelled analogue; it is a linear map of the same subspace. Held-out NMI went
   from 0.87 to 0.91 (LDA 0.91); LDA's own subspace with identity-covariance output scores
   0.86-0.87, so the gap was the metric, not the subspace. Rows named ``... (unscaled)``
   report the embedding as trained.

Features in different units (wine, breast cancer) are standardised first (``standardize``),
for every method; otherwise the 99% variance budget goes to the feature with the largest unit
(one direction kept for wine). Pixels are not: standardising digits brought near-constant
pixels back and InfoNCE fell from 0.91 to 0.69. With K = 2 (breast cancer) InfoNCE at k = 1
fails (0.15 against LDA's 0.72: a 1-D cosine similarity is only a sign) and k = 2 matches LDA
(0.71); :func:`fit_embedding` and the protocol warn at k = 1.

On two views of each digit, default CLIP on *same-class* cross-view pairs beats per-view PCA
(held-out NMI 0.84 / 0.83 against 0.68 / 0.72) and nearly matches per-view LDA (0.84 / 0.84).
On *same-object* pairs (the views as given) it does not (0.63 / 0.63), although it retrieves
the other view of the same digit among 540 (top-1 0.58): the two samplings of one digit share
its style (stroke width, slant, ink) as well as its class, and CLIP keeps everything shared.

Rows are long format: ``study, setting, method, seed, metric, value`` plus ``dataset``, ``k``,
``delta`` and ``fit_seconds`` (for plotting and tables). Methods that do not use pairs (LDA,
PCA, raw features) are fitted once per seed and k and repeated under every ``delta``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from contrastive_gmm._validation import (
    InputTypeError,
    check_choice,
    check_index_pairs,
    check_labels,
    check_matrix,
    check_positive_int,
    check_probability,
)
from contrastive_gmm.data.pairs import (
    pair_indices_from_groups,
    pair_indices_from_labels,
)
from contrastive_gmm.defaults import N_PAIRS_PER_SAMPLE, PREPROCESS_VARIANCE
from contrastive_gmm.learners.base import warn_if_beyond_classes
from contrastive_gmm.learners.training import single_threaded
from contrastive_gmm.linalg import pair_whitening
from contrastive_gmm.methods import get_method, method_names
from contrastive_gmm.model_io import (
    LinearMap,
    TwoViewMap,
    _names,
    as_linear_map,
    feature_names,
    learner_summary,
)

#: What fit_embedding fits: every registered method (:mod:`contrastive_gmm.methods`).
FIT_METHODS = tuple(method_names())


# ---------------------------------------------------------------------------- linear building blocks
def compose(outer: LinearMap, inner: LinearMap) -> LinearMap:
    """The map ``x -> outer(inner(x))`` as one :class:`~contrastive_gmm.model_io.LinearMap`.

    Needs ``inner`` to have full row rank (it does for every map built here), so that a
    mean in input space exists that ``inner`` sends to ``outer``'s mean.

    Examples
    --------
    >>> inner = LinearMap([1.0, 0.0], [[1.0, 0.0], [0.0, 2.0]])
    >>> outer = LinearMap([0.5, 0.0], [[1.0, 1.0]])
    >>> X = np.array([[3.0, 1.0]])
    >>> bool(np.allclose(compose(outer, inner).transform(X), outer.transform(inner.transform(X))))
    True
    """
    if outer.n_features_in_ != inner.n_components:
        raise ValueError(f"outer expects {outer.n_features_in_} inputs but inner gives {inner.n_components}.")
    components = outer.components_ @ inner.components_
    mean = inner.mean_ + outer.mean_ @ np.linalg.pinv(inner.components_).T
    return LinearMap(mean, components, method=outer.method, info=outer.info, feature_names=feature_names(inner))


@single_threaded()
def pca_preprocessor(X: ArrayLike, variance: float = PREPROCESS_VARIANCE) -> LinearMap:
    """Projection onto the fewest top principal directions holding ``variance`` of the total variance.

    Directions with (numerically) zero variance are always dropped, even at ``variance=1``.
    The rows of the map are orthonormal.

    Examples
    --------
    >>> from contrastive_gmm.data import load_real_dataset
    >>> X, _ = load_real_dataset("digits")
    >>> pca_preprocessor(X).n_components, pca_preprocessor(X, 1.0).n_components
    (41, 61)
    """
    X = check_matrix(X, "X")
    variance = check_probability(variance, "variance")
    if variance == 0:
        raise ValueError("variance must be > 0 (the fraction of the total variance to keep); got 0.")
    mean = X.mean(axis=0)
    _, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
    power = s**2
    if not power.sum() > 0:
        raise ValueError("X has zero variance in every feature; nothing can be learned from it.")
    nonzero = int(np.sum(power > power[0] * 1e-12))
    k = min(int(np.searchsorted(np.cumsum(power) / power.sum(), variance - 1e-12) + 1), nonzero)
    return LinearMap(mean, Vt[:k], method="pca-preprocessing", info={"variance": variance})


def standardizer(X: ArrayLike) -> LinearMap:
    """Per-feature standardisation as a map: ``(X - mean) / std`` (a constant feature keeps scale 1).

    For features in different units (wine, breast cancer): otherwise the preprocessing's
    variance budget goes to whichever feature has the largest unit. Not for pixels: it
    gives a pixel lit in two images as much variance as any other.

    Examples
    --------
    >>> standardizer([[0.0, 1.0], [2.0, 1.0]]).transform([[2.0, 5.0]]).tolist()
    [[1.0, 4.0]]
    """
    X = check_matrix(X, "X")
    std = X.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return LinearMap(X.mean(axis=0), np.diag(1.0 / std), method="standardize")


def needs_standardizing(X: ArrayLike, variance: float = PREPROCESS_VARIANCE) -> tuple[bool, int, int]:
    """Whether ``X``'s features are on such different scales that the preprocessing would follow their units.

    Returns ``(decision, n_raw, n_scaled)``: the directions :func:`pca_preprocessor` keeps
    (``variance`` of the total) on the raw and on the standardised features, and whether the
    raw units hide more than half of them. A variance fraction depends on the units: on raw
    wine it keeps 1 direction of 13 (proline, in mg/l, holds 99.8% of the raw variance)
    against 12 after standardising, breast cancer 2 against 17; features sharing one unit
    lose little (digits' pixels 41 against 54, iris 3 against 3), and there standardising
    would give a pixel lit in a handful of images as much weight as any other (held-out NMI
    of InfoNCE on digits fell from 0.91 to 0.69, see the module docstring).

    >>> from contrastive_gmm.data import load_real_dataset
    >>> [needs_standardizing(load_real_dataset(name)[0])[0] for name in ("digits", "wine")]
    [False, True]
    """
    X = check_matrix(X, "X")
    n_raw = pca_preprocessor(X, variance).n_components
    n_scaled = pca_preprocessor(standardizer(X).transform(X), variance).n_components
    return 2 * n_raw < n_scaled, n_raw, n_scaled


def _decide_standardize(X: np.ndarray, standardize: bool | str, variance: float, name: str) -> tuple[bool, dict]:
    """``standardize`` (True, False or ``"auto"``) resolved for ``X``, and notes for the model's info."""
    if isinstance(standardize, str):
        if standardize != "auto":
            raise ValueError(f"{name} must be True, False or 'auto'; got {standardize!r}.")
        decision, n_raw, n_scaled = needs_standardizing(X, variance)
        return decision, {"standardize": "auto", "n_kept_raw": n_raw, "n_kept_standardized": n_scaled}
    if not isinstance(standardize, (bool, np.bool_)):
        raise InputTypeError(f"{name} must be True, False or 'auto'; got {standardize!r} ({type(standardize).__name__}).")
    return bool(standardize), {"standardize": bool(standardize)}


def _preprocess(X: np.ndarray, standardize: bool, variance: float) -> tuple[np.ndarray, LinearMap]:
    """``X`` standardised (if asked) and reduced by :func:`pca_preprocessor`, and that map from raw ``X``."""
    scaler = standardizer(X) if standardize else None
    Xs = X if scaler is None else scaler.transform(X)
    pre = pca_preprocessor(Xs, variance)
    return pre.transform(Xs), pre if scaler is None else compose(pre, scaler)


def describe_preprocessing(info: Mapping) -> str:
    """One line saying what :func:`fit_embedding`'s preprocessing did, from the ``info`` of its map.

    Examples
    --------
    >>> from contrastive_gmm.data import load_real_dataset
    >>> X, y = load_real_dataset("wine")
    >>> describe_preprocessing(fit_embedding("lda", X, y=y, n_components=2).info)
    'standardised the 13 features (their scales differ: raw units would keep 1 direction, unit scale 12); PCA kept 12 directions (99% of the variance)'
    """

    def one(pre: Mapping) -> str:
        d = pre.get("n_features", "the")
        if pre.get("standardized"):
            why = ""
            if pre.get("standardize") == "auto":
                raw = pre["n_kept_raw"]
                why = f" (their scales differ: raw units would keep {raw} direction{'s' if raw != 1 else ''}, unit scale {pre['n_kept_standardized']})"
            text = f"standardised the {d} features{why}"
        else:
            text = f"used the {d} features as given" + (" (one common scale)" if pre.get("standardize") == "auto" else "")
        if "n_kept" in pre:
            text += f"; PCA kept {pre['n_kept']} direction{'s' if pre['n_kept'] != 1 else ''} ({pre['variance'] * 100:g}% of the variance)"
        return text

    if "preprocessing_view2" in info:
        return f"view 1: {one(info['preprocessing'])}; view 2: {one(info['preprocessing_view2'])}"
    return one(info.get("preprocessing", {}))


def _whitened_maps(model: object, A: np.ndarray, B: np.ndarray) -> tuple[LinearMap, LinearMap]:
    """A fitted one-view learner's map as trained, and followed by :func:`pair_whitening` of its pairs."""
    plain = as_linear_map(model)
    W, mean = pair_whitening(plain.transform(A), plain.transform(B))
    return plain, compose(LinearMap(mean, W.T, method=plain.method), plain)


def _whitened_two_view_maps(model: object, A: np.ndarray, B: np.ndarray) -> tuple[TwoViewMap, TwoViewMap]:
    """A fitted two-view learner's maps as trained, and both followed by the pair whitening of the cross-view differences."""
    plain = as_linear_map(model)
    Za, Zb = plain.transform(A, B)
    W, mean_a = pair_whitening(Za, Zb)
    mx = compose(LinearMap(mean_a, W.T), plain.view(1))
    my = compose(LinearMap(Zb.mean(axis=0), W.T), plain.view(2))
    return plain, TwoViewMap(mx.mean_, mx.components_, my.mean_, my.components_, method=plain.method)


# ---------------------------------------------------------------------------- one fit
def _namer(option_names: Mapping[str, str] | None) -> Callable[[str], str]:
    """How messages name a parameter: itself, or what the caller calls it (the CLI's options)."""
    names = dict(option_names or {})
    return lambda param: names.get(param, param)


def _positives(
    method: str, n: int, y: np.ndarray | None, X2: np.ndarray | None, same_width: bool,
    pairs: ArrayLike | None, groups: ArrayLike | None, delta: float, n_pairs_per_sample: int, rng: np.random.Generator,
    name: Callable[[str], str] = str,
) -> tuple[np.ndarray, str, str]:
    """Index pairs (anchor row, partner row), where the partner comes from ("X" or "X2"), and what defined them."""
    if get_method(method).inputs == "two_views":
        if X2 is None:
            raise ValueError(f"{method} needs a second view: X2, row-paired with X (columns named view2_* in a table, 'X2' in an .npz).")
        if delta:
            raise ValueError(f"{name('delta')} applies to pairs built from labels or groups; {method} pairs the rows of its two views.")
        if pairs is not None:
            return check_index_pairs(pairs, n), "X2", "pairs"
        return np.column_stack([np.arange(n), np.arange(n)]), "X2", "rows"
    if pairs is not None:
        if delta:
            raise ValueError(f"{name('delta')} applies to pairs built from labels or groups, not to explicit pairs.")
        return check_index_pairs(pairs, n), "X", "pairs"
    if groups is not None:
        return pair_indices_from_groups(groups, n_pairs_per_sample, delta, rng, name=name("groups")), "X", "groups"
    if X2 is not None and same_width:
        if delta:
            raise ValueError(f"{name('delta')} applies to pairs built from labels or groups, not to a given second view.")
        return np.column_stack([np.arange(n), np.arange(n)]), "X2", "rows"
    if y is not None:
        return pair_indices_from_labels(y, delta, n_pairs_per_sample, rng, name=name("y")), "X", "labels"
    raise ValueError(
        f"{method} needs positives: labels (y / a 'label' column), group ids, explicit pairs, or a second view "
        "of the same width (X2 / view2_* columns)."
    )


def _warn_if_one_dimensional(k: int, name: Callable[[str], str] = str) -> None:
    # Measured on breast cancer (K = 2): k = 1 gave held-out NMI 0.15 against LDA's 0.72; k = 2 matched LDA.
    if k == 1:
        warnings.warn(
            f"InfoNCE with {name('n_components')}=1: cosine similarity of 1-D embeddings is only their sign, so the "
            f"default (cosine) loss cannot learn a useful direction; use {name('n_components')} >= 2.",
            UserWarning,
            stacklevel=4,  # past this helper, the caller and the single-thread wrapper
        )


def _keep_more(name: Callable[[str], str] = str) -> str:
    return f"lower {name('n_components')}, raise {name('variance')}, or set {name('standardize')} for features in different units"


def _check_k(k: int, available: int, what: str, fix: str | None = None, name: Callable[[str], str] = str) -> None:
    if k > available:
        raise ValueError(f"{name('n_components')}={k} is more than the {available} directions {what}: {fix or 'lower ' + name('n_components')}.")


@single_threaded()
def fit_embedding(
    method: str,
    X: ArrayLike,
    *,
    n_components: int,
    y: ArrayLike | None = None,
    X2: ArrayLike | None = None,
    pairs: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    delta: float = 0.0,
    n_pairs_per_sample: int = N_PAIRS_PER_SAMPLE,
    variance: float = PREPROCESS_VARIANCE,
    standardize: bool | str = "auto",
    pair_whitened: bool = True,
    random_state: int | None = None,
    feature_names: Sequence[str] | None = None,
    feature_names_view2: Sequence[str] | None = None,
    option_names: Mapping[str, str] | None = None,
    estimator_options: Mapping[str, Any] | None = None,
) -> LinearMap | TwoViewMap:
    """Fit one method as this module's protocol does and return its map from raw features.

    ``method`` is any name of :func:`~contrastive_gmm.methods.method_names` (``"infonce"``,
    ``"clip"``, ``"simsiam"``, ``"lda"``, ``"pca"``, ...). A method fitted on pairs or on
    two views is its default estimator (``InfoNCE(k, random_state=seed)``,
    ``CLIP(k, random_state=seed)``, ...) fitted after :func:`pca_preprocessor` and, with
    ``pair_whitened``, followed by :func:`pair_whitening`; a method fitted on labels (LDA,
    SupCon) after the same preprocessing; PCA on the features as given. ``standardize``
    first applies :func:`standardizer` (for features in different units); ``"auto"`` (the
    default) does so when :func:`needs_standardizing` says the raw units would decide what the
    preprocessing keeps (wine, breast cancer; not digits' pixels), separately for each view.
    The result is one affine map (two for CLIP) from the raw input, ready for
    :func:`~contrastive_gmm.save_model`; ``info["preprocessing"]`` records what was done
    (:func:`describe_preprocessing` says it in words).

    InfoNCE's positives, first that applies: explicit ``pairs`` (m, 2), ``groups``, a
    second view ``X2`` of the same width (row i's positive is ``X2[i]``), labels ``y`` (a
    random other row of the class, ``n_pairs_per_sample`` per row, a fraction ``delta`` from
    any class). CLIP pairs ``X[i]`` with ``X2[i]``, or ``X[a]`` with ``X2[b]`` for ``pairs``.
    With labels, ``n_components`` above the number of classes - 1 gives a UserWarning.

    ``feature_names`` (and ``feature_names_view2``) name the input columns; the map keeps
    them as ``feature_names_in_``, so a model file can refuse reordered columns later.
    ``option_names`` maps parameter names to what the caller calls them in messages (the
    command line passes ``{"n_components": "--n-components", ...}``). ``estimator_options`` go
    to the method's estimator (``{"temperature": 3.0, "max_epochs": 50}``; one it does not take
    is a TypeError naming the method), and ``info["learner"]`` records the fitted estimator's
    parameters and diagnostics (:func:`~contrastive_gmm.model_io.learner_summary`).

    Examples
    --------
    >>> from contrastive_gmm.data import load_real_dataset
    >>> X, y = load_real_dataset("wine")
    >>> emb = fit_embedding("lda", X, y=y, n_components=2)
    >>> emb.transform(X).shape, emb.method, emb.info["preprocessing"]["standardized"]
    ((178, 2), 'lda', True)
    """
    name = _namer(option_names)
    method = check_choice(method, "method", FIT_METHODS)
    X = check_matrix(X, "X")
    n = X.shape[0]
    y = None if y is None else check_labels(y, n)
    X2 = None if X2 is None else check_matrix(X2, "X2")
    if X2 is not None and X2.shape[0] != n:
        raise ValueError(f"X2 must be row-paired with X; got {X2.shape[0]} and {n} rows.")
    names = _names(feature_names, X.shape[1], "feature_names")
    names2 = None if X2 is None else _names(feature_names_view2, X2.shape[1], "feature_names_view2")
    delta = check_probability(delta, name("delta"))
    n_pairs_per_sample = check_positive_int(n_pairs_per_sample, name("n_pairs_per_sample"))
    k = check_positive_int(n_components, name("n_components"))
    variance = check_probability(variance, name("variance"))
    if variance == 0:
        raise ValueError(f"{name('variance')} must be > 0 (the fraction of the total variance the preprocessing keeps); got 0.")
    if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))):
        raise InputTypeError(f"{name('random_state')} must be None or an integer seed; got {random_state!r} ({type(random_state).__name__}).")
    seed = None if random_state is None else int(random_state)
    scale, notes = _decide_standardize(X, standardize, variance, name("standardize"))
    info: dict = {"method": method, "n_components": k, "random_state": seed, "standardize": scale}
    pre_info = {**notes, "standardized": scale, "n_features": X.shape[1]}

    options = dict(estimator_options or {})

    def fitted(model: Any) -> Any:  # its parameters and diagnostics go into the model file
        info["learner"] = learner_summary(model)
        return model

    def named(emb: LinearMap) -> LinearMap:
        return LinearMap(emb.mean_, emb.components_, method=emb.method, info=info, feature_names=names)

    spec = get_method(method)
    if spec.inputs == "features":
        _check_k(k, min(X.shape), "PCA can find in this data (min(n_samples, n_features))", name=name)
        scaler = standardizer(X) if scale else None
        model = spec.build(k, **{"svd_solver": "full", **options}) if method == "pca" else spec.build(k, random_state=seed, **options)
        emb = as_linear_map(fitted(model.fit(X if scaler is None else scaler.transform(X))), info=info)
        info["preprocessing"] = pre_info
        return named(emb if scaler is None else compose(emb, scaler))
    U, pre = _preprocess(X, scale, variance)
    info["preprocessing"] = {**pre_info, "variance": variance, "n_kept": pre.n_components}
    if spec.inputs == "labels":
        if y is None:
            raise ValueError(f"{method} needs labels: y (a 'label' column in a table, 'y' in an .npz).")
        if delta:
            raise ValueError(f"{name('delta')} applies to contrastive pairs; {method} uses the labels themselves.")
        n_classes = len(np.unique(y))
        if spec.classes_limit:
            _check_k(
                k, min(n_classes - 1, pre.n_components),
                f"{spec.label} can find here (classes - 1 = {n_classes - 1}, kept features = {pre.n_components})", name=name,
            )
        else:
            _check_k(k, pre.n_components, f"kept by preprocessing ({variance:g} of the variance)", _keep_more(name), name)
        model = spec.build(k, **options) if method == "lda" else spec.build(k, random_state=seed, **options)
        return named(compose(as_linear_map(fitted(model.fit(U, y)), info=info), pre))
    rng = np.random.default_rng(seed)
    same_width = X2 is not None and X2.shape[1] == X.shape[1]
    P, partner, source = _positives(method, n, y, X2, same_width, pairs, groups, delta, n_pairs_per_sample, rng, name)
    info.update(n_pairs=int(P.shape[0]), delta=delta, positives=source)
    if spec.inputs == "pairs":
        _check_k(k, pre.n_components, f"kept by preprocessing ({variance:g} of the variance)", _keep_more(name), name)
        if method == "infonce":
            _warn_if_one_dimensional(k, name)
        if source == "labels":  # same-class pairs: only K - 1 directions separate the classes
            warn_if_beyond_classes(k, y, method, name=name("n_components"))
        V = pre.transform(X2) if partner == "X2" else U
        A, B = U[P[:, 0]], V[P[:, 1]]
        plain, whitened = _whitened_maps(fitted(spec.build(k, random_state=seed, **options).fit(A, B)), A, B)
        info["pair_whitened"] = bool(pair_whitened)
        emb = compose(whitened if pair_whitened else plain, pre)
        return LinearMap(emb.mean_, emb.components_, method=method, info=info, feature_names=names)
    scale2, notes2 = _decide_standardize(X2, standardize, variance, name("standardize"))
    U2, pre2 = _preprocess(X2, scale2, variance)
    info["standardize_view2"] = scale2
    info["preprocessing_view2"] = {**notes2, "standardized": scale2, "n_features": X2.shape[1], "variance": variance, "n_kept": pre2.n_components}
    _check_k(
        k, min(pre.n_components, pre2.n_components), f"kept by preprocessing in both views ({variance:g} of the variance)",
        _keep_more(name), name,
    )
    A, B = U[P[:, 0]], U2[P[:, 1]]
    plain, whitened = _whitened_two_view_maps(fitted(spec.build(k, random_state=seed, **options).fit(A, B)), A, B)
    info["pair_whitened"] = bool(pair_whitened)
    maps = _compose_views(whitened if pair_whitened else plain, pre, pre2, info)
    return TwoViewMap(
        maps.x_mean_, maps.x_components_, maps.y_mean_, maps.y_components_, method=method, info=info,
        x_feature_names=names, y_feature_names=names2,
    )


def _compose_views(maps: TwoViewMap, pre1: LinearMap, pre2: LinearMap, info: dict | None = None) -> TwoViewMap:
    """Two-view maps on preprocessed views, composed with each view's preprocessing."""
    mx, my = compose(maps.view(1), pre1), compose(maps.view(2), pre2)
    return TwoViewMap(mx.mean_, mx.components_, my.mean_, my.components_, method="clip", info=info)


# ---------------------------------------------------------------------------- the protocol


# ---------------------------------------------------------------------------- tables and figure


#: The closed forms :func:`fit_shards` fits by a Dask reduction.
SHARD_CLOSED_FORMS = ("pair_cca", "cca", "pls_svd")
#: The trained methods :func:`fit_shards` fits across ``torch.distributed`` processes.
SHARD_TRAINED = ("infonce", "simclr", "clip")


def fit_shards(
    method: str,
    shards: Sequence[str | os.PathLike],
    *,
    n_components: int,
    random_state: int | None = None,
    estimator_options: Mapping[str, Any] | None = None,
    scheduler: str | None = None,
    distributed: bool = False,
    option_names: Mapping[str, str] | None = None,
) -> LinearMap | TwoViewMap:
    """Fit ``method`` on row-paired views stored as ``.npz`` shards (:mod:`contrastive_gmm.data.shards`), never loading them whole.

    The estimator is the method's own, on the features as given (a data set this size is
    usually already an embedding; no PCA preprocessing, which would need its own pass), so the
    map is the estimator's. Closed forms (:data:`SHARD_CLOSED_FORMS`) read the shards as a Dask
    array, one block per shard: the moments are a Dask reduction on the active scheduler, or on
    the cluster at ``scheduler`` (a ``distributed`` scheduler address: its workers must see
    the files), and only d x d matrices come back. Trained methods (:data:`SHARD_TRAINED`) need
    ``distributed=True`` inside an initialised ``torch.distributed`` group (``torchrun``):
    process r reads shards r, r + W, ... (:func:`~contrastive_gmm.data.shards.rank_shards`)
    and trains with ``distributed=True``; every process returns the same map.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from contrastive_gmm import GMM
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     X, X_pos, _, _ = GMM.random(3, 5, random_state=0).sample_pairs(400, random_state=i)
    ...     np.savez(folder / f"part{i}.npz", X=X, X2=X_pos)
    >>> model = fit_shards("pair_cca", sorted(folder.glob("*.npz")), n_components=2)
    >>> model.components_.shape, model.info["n_pairs"], model.info["shards"]
    ((2, 5), 1200, 3)
    """
    from contrastive_gmm import distributed as dist_
    from contrastive_gmm.data.shards import dask_views, rank_shards, read_shards, shard_shapes

    name = _namer(option_names)
    method = check_choice(method, "method", SHARD_CLOSED_FORMS + SHARD_TRAINED)
    k = check_positive_int(n_components, name("n_components"))
    paths = [Path(p) for p in shards]
    if not paths:
        raise ValueError("fit_shards needs at least one shard file.")
    shapes = shard_shapes(paths)
    n = sum(sx[0] for sx, _ in shapes)
    spec = get_method(method)
    options = dict(estimator_options or {})
    if method in SHARD_CLOSED_FORMS:
        if distributed:
            raise ValueError(f"{method} is a closed form: it runs on Dask ({name('scheduler')}), not across torch processes ({name('distributed')}).")
        model = spec.build(k, **options)
        X, X2 = dask_views(paths)
        if scheduler is None:
            model.fit(X, X2)
        else:
            from distributed import Client

            with Client(scheduler) as _client:  # the active scheduler while the reduction runs
                model.fit(X, X2)
    else:
        if scheduler is not None:
            raise ValueError(f"{method} trains with torch.distributed ({name('distributed')} under torchrun), not on a Dask scheduler ({name('scheduler')}).")
        if not distributed:
            raise ValueError(
                f"{method} on shards trains across processes: run under torchrun with {name('distributed')} "
                "(each process reads its own shards); or fit a closed form (" + ", ".join(SHARD_CLOSED_FORMS) + ")."
            )
        if not dist_.is_initialized():
            raise ValueError(f"{name('distributed')} needs an initialised torch.distributed process group (start the command with torchrun).")
        X, X2 = read_shards(rank_shards(paths, dist_.rank(), dist_.world_size()))
        model = spec.build(k, random_state=random_state, distributed=True, **options).fit(X, X2)
    info: dict = {
        "method": method, "n_components": k, "random_state": random_state if method in SHARD_TRAINED else None,
        "standardize": False, "n_pairs": n, "positives": "rows", "shards": len(paths),
        "pair_whitened": bool(getattr(model, "pair_whiten", False)), "learner": learner_summary(model),
        "preprocessing": {"standardized": False, "n_features": shapes[0][0][1]},
    }
    if spec.inputs == "two_views":
        info["preprocessing_view2"] = {"standardized": False, "n_features": shapes[0][1][1]}
    return as_linear_map(model, info=info)


__all__ = [
    "SHARD_CLOSED_FORMS",
    "SHARD_TRAINED",
    "fit_shards",
    "PREPROCESS_VARIANCE",
    "N_PAIRS_PER_SAMPLE",
    "compose",
    "pca_preprocessor",
    "standardizer",
    "needs_standardizing",
    "describe_preprocessing",
    "fit_embedding",
]
