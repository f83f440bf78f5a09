"""Model files: a fitted linear map saved as numpy arrays plus a JSON header, never as a pickle.

Every model this package fits for users is an affine map ``Z = (X - mean) @ components.T``
(one per view for CLIP). A model file is a ``.npz`` archive written with :func:`numpy.savez`
and read back with ``allow_pickle=False``, so loading an untrusted file can at worst fail,
never run code. It holds:

- ``header``: a 0-d unicode array with a JSON object: ``format`` (``"contrastive-gmm-model"``),
  ``format_version`` (an integer, currently 1), ``method`` (``"infonce"``, ``"clip"``,
  ``"lda"``, ``"pca"``, ...), ``n_views`` (1 or 2), ``n_features`` (input width of view 1),
  ``n_features_view2`` (two views only), ``n_components`` (output width), ``library_version``
  and ``info`` (free JSON: how it was fitted, e.g. delta, seed, preprocessing; ``learner``:
  the fitted estimator's class, parameters and diagnostics, see :func:`learner_summary`;
  ``cgmm fit`` adds ``data``, ``data_shape``, ``fit_seconds`` and ``fitted_at``); optionally
  ``feature_names`` (the names of view 1's input columns, in order) and ``feature_names_view2``
  (two views only). Files without them (written by 0.1.0, or fitted on unnamed arrays) still
  load; only the width of the data can then be checked against them.
- one view: float64 arrays ``mean`` (d,) and ``components`` (k, d);
- two views: ``x_mean``, ``x_components``, ``y_mean``, ``y_components``.

:func:`save_model` accepts this package's learners (:class:`~contrastive_gmm.InfoNCE`,
:class:`~contrastive_gmm.CLIP`, pair CCA, CCA, ...), scikit-learn's ``PCA`` and
``LinearDiscriminantAnalysis``, and the maps below; :func:`load_model` returns a
:class:`LinearMap` or :class:`TwoViewMap` whose ``transform`` equals the saved model's.
Feature names follow scikit-learn's convention: a map fitted on named columns has
``feature_names_in_`` (an object array of str; absent otherwise), and
:func:`check_feature_names` refuses data whose columns differ from them. :func:`model_summary`
says what a file holds (``cgmm info``).
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike

from contrastive_gmm._validation import check_finite, check_numeric, check_path
from contrastive_gmm.learners.base import LinearProjection, TwoViewProjection

FORMAT = "contrastive-gmm-model"
FORMAT_VERSION = 1
_ONE_VIEW = ("mean", "components")
_TWO_VIEWS = ("x_mean", "x_components", "y_mean", "y_components")


class ModelFileError(ValueError):
    """A model file cannot be used; the message starts with the path and says why."""


class FeatureMismatchError(ValueError):
    """Data whose columns (number, names or order) are not the ones a model was fitted on."""


def _names(names: Sequence[str] | None, n_features: int, what: str) -> np.ndarray | None:
    """``names`` as scikit-learn's ``feature_names_in_`` (an object array of unique str), or None."""
    if names is None:
        return None
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{what} must be a sequence of column names (str); got {names!r:.60}.")
    out = np.array(list(names), dtype=object)
    if out.shape != (n_features,):
        raise ValueError(f"{what} must name each of the {n_features} input features; got {out.size} names.")
    if len(set(out.tolist())) != out.size:
        raise ValueError(f"{what} names a column twice: {_some(sorted(n for n in set(out.tolist()) if out.tolist().count(n) > 1))}.")
    return out


def _some(names: Sequence[str], limit: int = 4) -> str:
    """At most ``limit`` quoted names, then how many more: keeps a message to one readable line."""
    shown = ", ".join(repr(n) for n in list(names)[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _affine(mean: ArrayLike, components: ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Check a map's arrays: finite float64, ``components`` (k, d) with k >= 1 and ``mean`` (d,)."""
    m = check_numeric(mean, f"{what}mean").astype(np.float64)
    C = check_numeric(components, f"{what}components").astype(np.float64)
    if C.ndim != 2 or C.shape[0] < 1 or C.shape[1] < 1:
        raise ValueError(f"{what}components must be a (n_components, n_features) matrix; got shape {C.shape}.")
    if m.shape != (C.shape[1],):
        raise ValueError(f"{what}mean must have one entry per input feature ({C.shape[1]}); got shape {m.shape}.")
    return check_finite(m, f"{what}mean"), check_finite(C, f"{what}components")


class LinearMap(LinearProjection):
    """A fitted affine map ``transform(X) = (X - mean_) @ components_.T``: what a one-view model file holds.

    Parameters
    ----------
    mean : (d,) array
        Subtracted before projecting.
    components : (k, d) array
        The map's rows.
    method : str
        What produced it (``"infonce"``, ``"lda"``, ``"pca"``, ...).
    info : dict, optional
        JSON-able notes on how it was fitted.
    feature_names : sequence of str, optional
        The names of the input columns, in order; stored as ``feature_names_in_`` (which,
        as in scikit-learn, exists only when names were given).

    Examples
    --------
    >>> m = LinearMap([1.0, 1.0], [[1.0, 0.0]], method="demo", feature_names=["a", "b"])
    >>> m.transform([[3.0, 5.0]]).tolist(), m.feature_names_in_.tolist()
    ([[2.0]], ['a', 'b'])
    """

    def __init__(
        self, mean: ArrayLike, components: ArrayLike, method: str = "linear", info: dict | None = None, feature_names: Sequence[str] | None = None
    ) -> None:
        self.mean = mean
        self.components = components
        self.method = method
        self.info = info
        self.feature_names = feature_names
        self.mean_, self.components_ = _affine(mean, components, "")
        self.n_features_in_ = self.components_.shape[1]
        names = _names(feature_names, self.n_features_in_, "feature_names")
        if names is not None:
            self.feature_names_in_ = names

    @property
    def n_components(self) -> int:
        """Output width k."""
        return self.components_.shape[0]

    def fit(self, X: ArrayLike | None = None, y: object = None) -> "LinearMap":
        """No-op: the map is fitted when built (``fit`` exists so it works in a scikit-learn Pipeline)."""
        return self


class TwoViewMap(TwoViewProjection):
    """One affine map per view (what a CLIP model file holds); ``transform(X, Y=None)`` as for :class:`~contrastive_gmm.CLIP`.

    ``x_feature_names`` and ``y_feature_names`` (optional) name each view's input columns;
    they are stored as ``feature_names_in_`` (view 1, as ``n_features_in_`` is view 1's
    width) and ``y_feature_names_in_``, each only when given.

    Examples
    --------
    >>> m = TwoViewMap([0.0], [[2.0]], [1.0, 1.0], [[1.0, 1.0]], method="demo")
    >>> [z.tolist() for z in m.transform([[1.0]], [[2.0, 3.0]])]
    [[[2.0]], [[3.0]]]
    """

    def __init__(
        self,
        x_mean: ArrayLike,
        x_components: ArrayLike,
        y_mean: ArrayLike,
        y_components: ArrayLike,
        method: str = "two-view",
        info: dict | None = None,
        x_feature_names: Sequence[str] | None = None,
        y_feature_names: Sequence[str] | None = None,
    ) -> None:
        self.x_mean = x_mean
        self.x_components = x_components
        self.y_mean = y_mean
        self.y_components = y_components
        self.method = method
        self.info = info
        self.x_feature_names = x_feature_names
        self.y_feature_names = y_feature_names
        self.x_mean_, self.x_components_ = _affine(x_mean, x_components, "x_")
        self.y_mean_, self.y_components_ = _affine(y_mean, y_components, "y_")
        if self.x_components_.shape[0] != self.y_components_.shape[0]:
            raise ValueError(
                f"both views must map to the same width; got {self.x_components_.shape[0]} and {self.y_components_.shape[0]} components."
            )
        self.n_features_in_ = self.x_components_.shape[1]
        x_names = _names(x_feature_names, self.n_features_in_, "x_feature_names")
        y_names = _names(y_feature_names, self.y_components_.shape[1], "y_feature_names")
        if x_names is not None:
            self.feature_names_in_ = x_names
        if y_names is not None:
            self.y_feature_names_in_ = y_names

    @property
    def n_components(self) -> int:
        """Output width k."""
        return self.x_components_.shape[0]

    def fit(self, X: ArrayLike | None = None, Y: ArrayLike | None = None) -> "TwoViewMap":
        """No-op: the maps are fitted when built."""
        return self

    def view(self, which: int) -> LinearMap:
        """The map of view 1 or 2 alone, as a :class:`LinearMap`."""
        if which not in (1, 2):
            raise ValueError(f"which must be 1 or 2; got {which!r}.")
        m, C = (self.x_mean_, self.x_components_) if which == 1 else (self.y_mean_, self.y_components_)
        names = feature_names(self, view=which)
        return LinearMap(m, C, method=f"{self.method} (view {which})", info=self.info, feature_names=names)


def feature_names(model: object, view: int = 1) -> list[str] | None:
    """The input column names a fitted map stores (``view`` 2: a two-view map's second view), or None.

    >>> feature_names(LinearMap([0.0], [[1.0]], feature_names=["a"])), feature_names(LinearMap([0.0], [[1.0]]))
    (['a'], None)
    """
    names = getattr(model, "feature_names_in_" if view == 1 else "y_feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def check_feature_names(model: LinearMap, n_features: int, names: Sequence[str] | None, what: str = "X") -> None:
    """Refuse data with ``n_features`` columns named ``names`` unless they are the ones ``model`` was fitted on, in order.

    Raises :class:`FeatureMismatchError` (a ValueError; one line starting with ``what``) when
    the number differs or, where both sides have names, when columns are missing, unexpected
    or in another order. Where only one side has names (a model file from before names were
    stored, or data from an array file) the order cannot be checked: a UserWarning says so.

    Examples
    --------
    >>> m = LinearMap([0.0, 0.0], [[1.0, 0.0]], feature_names=["a", "b"])
    >>> check_feature_names(m, 2, ["a", "b"])
    >>> check_feature_names(m, 2, ["b", "a"])
    Traceback (most recent call last):
    ...
    contrastive_gmm.model_io.FeatureMismatchError: X: the columns are the model's but in another order: column 1 is 'b' where the model has 'a'.
    """
    expected = feature_names(model)
    given = None if names is None else [str(n) for n in names]
    if expected is not None and given is not None and given != expected:
        missing = [n for n in expected if n not in given]
        extra = [n for n in given if n not in expected]
        if missing or extra:
            parts = ([f"missing {_some(missing)}"] if missing else []) + ([f"unexpected {_some(extra)}"] if extra else [])
            raise FeatureMismatchError(f"{what}: the columns differ from the {len(expected)} the model was fitted on: {'; '.join(parts)}.")
        i = next(j for j, (a, b) in enumerate(zip(given, expected)) if a != b)
        raise FeatureMismatchError(
            f"{what}: the columns are the model's but in another order: column {i + 1} is {given[i]!r} where the model has {expected[i]!r}."
        )
    if n_features != model.n_features_in_:
        raise FeatureMismatchError(f"{what}: has {n_features} feature column(s), but the model was fitted on {model.n_features_in_}.")
    if expected is None and given is not None:
        warnings.warn(
            f"{what}: the model stores no column names (it was fitted on an array, or saved by an older version), "
            "so only the number of columns was checked, not their names or order.",
            UserWarning,
            stacklevel=2,
        )
    elif expected is not None and given is None:
        warnings.warn(
            f"{what}: the data has no column names (an array file), so only the number of columns was checked; "
            f"the model expects them in the order {_some(expected)}.",
            UserWarning,
            stacklevel=2,
        )


def _method_name(model: object) -> str:
    """A model file's ``method``: the registry's name for the model's class (:mod:`contrastive_gmm.methods`)."""
    from contrastive_gmm.methods import method_of

    found = method_of(model)
    return found.name if found is not None else type(model).__name__.lower()


def as_linear_map(model: object, info: dict | None = None) -> LinearMap | TwoViewMap:
    """The affine map of a fitted model, as a :class:`LinearMap` (one view) or :class:`TwoViewMap` (two).

    Handles this package's learners, scikit-learn's ``PCA`` (also ``whiten=True``) and
    ``LinearDiscriminantAnalysis`` (``svd`` and ``eigen`` solvers). Raises TypeError otherwise.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).normal(size=(50, 4))
    >>> pca = PCA(2).fit(X)
    >>> bool(np.allclose(as_linear_map(pca).transform(X), pca.transform(X)))
    True
    """
    if isinstance(model, (LinearMap, TwoViewMap)):
        return model
    method = _method_name(model)
    if isinstance(model, TwoViewProjection):
        if not hasattr(model, "x_components_"):
            raise TypeError(f"model {type(model).__name__} is not fitted; call fit before saving it.")
        return TwoViewMap(
            model.x_mean_, model.x_components_, model.y_mean_, model.y_components_, method=method, info=info,
            x_feature_names=feature_names(model), y_feature_names=feature_names(model, view=2),
        )
    # Names as scikit-learn records them when fitted on a DataFrame (feature_names_in_).
    names = feature_names(model)
    if isinstance(model, LinearProjection):
        if not hasattr(model, "components_"):
            raise TypeError(f"model {type(model).__name__} is not fitted; call fit before saving it.")
        return LinearMap(model.mean_, model.components_, method=method, info=info, feature_names=names)
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    if isinstance(model, PCA) and hasattr(model, "components_"):
        C = model.components_
        if model.whiten:
            C = C / np.sqrt(model.explained_variance_)[:, None]
        return LinearMap(model.mean_, C, method=method, info=info, feature_names=names)
    if isinstance(model, LinearDiscriminantAnalysis) and hasattr(model, "coef_"):
        if model.solver not in ("svd", "eigen"):
            raise TypeError("LinearDiscriminantAnalysis with solver='lsqr' has no transform; fit it with solver='svd' or 'eigen'.")
        # How many columns sklearn's own transform keeps (it may cap n_components at the rank).
        k = model.transform(np.zeros((1, model.scalings_.shape[0]))).shape[1]
        if model.solver == "svd":
            return LinearMap(model.xbar_, model.scalings_[:, :k].T, method=method, info=info, feature_names=names)
        return LinearMap(np.zeros(model.scalings_.shape[0]), model.scalings_[:, :k].T, method=method, info=info, feature_names=names)
    raise TypeError(
        f"model: cannot save a {type(model).__name__}: only fitted linear maps (InfoNCE, CLIP, pair CCA, CCA, "
        "scikit-learn PCA or LinearDiscriminantAnalysis) can be written as a model file."
    )


#: Fitted attributes that are the map itself (stored as arrays) or the input's width and names: not diagnostics.
_MAP_ATTRIBUTES = frozenset({
    "mean_", "components_", "x_mean_", "y_mean_", "x_components_", "y_components_", "n_features_in_", "feature_names_in_",
    "y_feature_names_in_", "xbar_", "scalings_", "coef_", "intercept_", "means_", "covariance_", "predictor_",
})
#: Longer arrays (per-feature values, a loss curve) stay out of a summary, so that it fits on a screen.
_MAX_LISTED = 32
_NO_JSON = object()


def _json_scalar(value: object) -> object:
    """``value`` as a JSON scalar (a non-finite float as the string ``"nan"`` or ``"inf"``: JSON has none), or ``_NO_JSON``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else str(float(value))
    return _NO_JSON


def _json_diagnostic(value: object) -> object:
    """A fitted attribute as JSON: a scalar, or a short 1-D array as a list; ``_NO_JSON`` otherwise."""
    scalar = _json_scalar(value)
    if scalar is not _NO_JSON or not isinstance(value, (list, tuple, np.ndarray)):
        return scalar
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.size > _MAX_LISTED or arr.dtype.kind not in "biufU":
        return _NO_JSON
    return [_json_scalar(v.item() if isinstance(v, np.generic) else v) for v in arr]


def learner_summary(estimator: object) -> dict[str, Any]:
    """What a fitted estimator is and what it reports about its fit, as JSON: for a model file's ``info["learner"]``.

    ``estimator`` is its class name; ``params`` its constructor parameters (scikit-learn's
    ``get_params``; a value with no JSON form, a numpy Generator say, as its ``repr``);
    ``diagnostics`` its fitted attributes (names ending in ``_``) that are numbers, strings or
    1-D arrays of at most 32 entries (not None) (``n_iter_``, ``effective_rank_``, ``pair_correlations_``,
    ``closed_form_share_``, ``shrinkage_``, ``temperature_``, ``explained_variance_ratio_``,
    ...), and the last entry of a ``loss_curve_`` as ``"loss_curve_[-1]"``. The map's own arrays
    are not repeated (the file holds them).

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).normal(size=(50, 3)) * [3.0, 2.0, 1.0]
    >>> s = learner_summary(PCA(2).fit(X))
    >>> s["estimator"], s["params"]["n_components"], len(s["diagnostics"]["explained_variance_ratio_"])
    ('PCA', 2, 2)
    """
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    # In the constructor's order (get_params sorts them), as the class's documentation lists them.
    order = [p for p in inspect.signature(type(estimator).__init__).parameters if p in params]
    shown = {}
    for name in order + sorted(set(params) - set(order)):
        scalar = _json_scalar(params[name])
        shown[name] = repr(params[name]) if scalar is _NO_JSON else scalar
    diagnostics: dict[str, Any] = {}
    for name, value in sorted(vars(estimator).items()):
        if name.endswith("_") and not name.startswith("_") and name not in _MAP_ATTRIBUTES and name != "loss_curve_":
            found = _json_diagnostic(value)
            if found is not _NO_JSON and found is not None:  # None: not computed for this fit
                diagnostics[name] = found
    curve = getattr(estimator, "loss_curve_", None)
    if isinstance(curve, (list, tuple, np.ndarray)) and len(curve):
        diagnostics["loss_curve_[-1]"] = _json_scalar(float(curve[-1]))
    return {"estimator": type(estimator).__name__, "params": shown, "diagnostics": diagnostics}


def save_model(model: object, path: str | os.PathLike, info: dict | None = None) -> Path:
    """Write a fitted linear model to ``path`` (a ``.npz`` archive, see the module docstring); returns the path.

    ``info`` (JSON-able) is stored in the header as given; by default the map's own ``info``,
    and for a fitted estimator (not a map) ``{"learner": learner_summary(model)}``: its
    parameters and diagnostics, which ``cgmm info`` shows.

    Examples
    --------
    >>> import os, tempfile
    >>> path = save_model(LinearMap([0.0, 0.0], [[1.0, 2.0]], method="demo"), os.path.join(tempfile.mkdtemp(), "m.npz"))
    >>> load_model(path).transform([[1.0, 1.0]]).tolist()
    [[3.0]]
    """
    from . import __version__

    out = Path(check_path(path))
    fitted = as_linear_map(model, info)
    notes = info if info is not None else (fitted.info or {})
    if info is None and fitted is not model and "learner" not in notes:
        notes = {**notes, "learner": learner_summary(model)}
    header: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "method": str(fitted.method),
        "n_views": 2 if isinstance(fitted, TwoViewMap) else 1,
        "n_features": int(fitted.n_features_in_),
        "n_components": int(fitted.n_components),
        "library_version": __version__,
        "info": notes,
    }
    # Optional keys: a reader of format 1 that predates them ignores them, so the version stays 1.
    if feature_names(fitted) is not None:
        header["feature_names"] = feature_names(fitted)
    if isinstance(fitted, TwoViewMap):
        header["n_features_view2"] = int(fitted.y_components_.shape[1])
        if feature_names(fitted, view=2) is not None:
            header["feature_names_view2"] = feature_names(fitted, view=2)
        arrays = dict(x_mean=fitted.x_mean_, x_components=fitted.x_components_, y_mean=fitted.y_mean_, y_components=fitted.y_components_)
    else:
        arrays = dict(mean=fitted.mean_, components=fitted.components_)
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"info must be JSON-serialisable (numbers, strings, lists, dicts; no NaN): {exc}") from None
    # Written through a handle so the name is kept exactly (np.savez would append .npz to a bare path).
    try:
        with open(out, "wb") as handle:
            np.savez(handle, header=np.array(text), **arrays)
    except OSError as exc:
        raise type(exc)(f"{out}: cannot write the model file: {exc.strerror or exc}") from None
    return out


def _fail(path: str, message: str) -> ModelFileError:
    return ModelFileError(f"{path}: {message}")


def load_model(path: str | os.PathLike) -> LinearMap | TwoViewMap:
    """Read a model file written by :func:`save_model` (never unpickles anything).

    Raises :class:`ModelFileError` (a ValueError) naming the path when the file is not a model
    file, was written by a newer format version, or has missing, extra, non-finite or
    inconsistent arrays. The header's ``info`` is on the returned map's ``info``.
    """
    return _read_model(path)[1]


def model_summary(path: str | os.PathLike) -> dict[str, Any]:
    """What a model file holds, as JSON, once :func:`load_model` has checked it (what ``cgmm info`` prints).

    Keys: ``path``, ``format_version``, ``library_version`` (None if unrecorded), ``method``,
    ``label`` (the registry's display name, or None), ``n_views``, ``n_features``,
    ``n_components``, ``feature_names`` (None when unnamed), for two views also
    ``n_features_view2`` and ``feature_names_view2``, and ``info`` (how it was fitted; files of
    older versions record less). Raises :class:`ModelFileError` as :func:`load_model` does.

    Examples
    --------
    >>> import os, tempfile
    >>> path = save_model(LinearMap([0.0, 0.0], [[1.0, 2.0]], method="pca", feature_names=["a", "b"]), os.path.join(tempfile.mkdtemp(), "m.npz"))
    >>> s = model_summary(path)
    >>> s["label"], s["n_features"], s["n_components"], s["feature_names"]
    ('PCA', 2, 1, ['a', 'b'])
    """
    from contrastive_gmm.methods import find_method

    header, fitted = _read_model(path)
    registered = find_method(fitted.method)
    summary: dict[str, Any] = {
        "path": str(path),
        "format_version": header["format_version"],
        "library_version": header.get("library_version"),
        "method": fitted.method,
        "label": None if registered is None else registered.label,
        "n_views": header["n_views"],
        "n_features": fitted.n_features_in_,
        "n_components": fitted.n_components,
        "feature_names": feature_names(fitted),
    }
    if isinstance(fitted, TwoViewMap):
        summary["n_features_view2"] = int(fitted.y_components_.shape[1])
        summary["feature_names_view2"] = feature_names(fitted, view=2)
    summary["info"] = fitted.info if isinstance(fitted.info, dict) else {"notes": fitted.info}
    return summary


def _read_model(path: str | os.PathLike) -> tuple[dict, LinearMap | TwoViewMap]:
    """The checked header of a model file and its map (see :func:`load_model`)."""
    text = check_path(path)
    if not os.path.isfile(text):
        raise _fail(text, "no such model file.")
    try:
        with np.load(text, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise _fail(text, "is a .npy array, not a model file (an .npz archive with a JSON header).")
            arrays = {k: archive[k] for k in archive.files}
    except ModelFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt archive can raise almost anything (zip, zlib, pickle refusal)
        raise _fail(text, f"is not a model file: cannot be read as an .npz archive ({type(exc).__name__}).") from None
    raw = arrays.pop("header", None)
    if raw is None or raw.dtype.kind != "U" or raw.size != 1:
        raise _fail(text, "is not a model file: it has no JSON 'header' entry (is it a data file?).")
    try:
        header = json.loads(str(raw.reshape(())))
    except json.JSONDecodeError as exc:
        raise _fail(text, f"has a header that is not valid JSON ({exc.msg}).") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _fail(text, f"is not a {FORMAT} file (its header's format is {header.get('format') if isinstance(header, dict) else None!r}).")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(text, f"has an invalid format_version {version!r}.")
    if version > FORMAT_VERSION:
        raise _fail(text, f"was written in model format {version}; this version of contrastive-gmm reads up to {FORMAT_VERSION}. Upgrade the package.")
    n_views = header.get("n_views")
    expected = {1: _ONE_VIEW, 2: _TWO_VIEWS}.get(n_views)
    if expected is None:
        raise _fail(text, f"has n_views {n_views!r} in its header; expected 1 or 2.")
    if set(arrays) != set(expected):
        raise _fail(text, f"must hold the arrays {', '.join(expected)} for a {n_views}-view model; it has {', '.join(sorted(arrays)) or 'none'}.")
    for name, arr in arrays.items():
        if arr.dtype.kind not in "fiu":
            raise _fail(text, f"array {name!r} must be numeric; got dtype {arr.dtype}.")
    method, info = str(header.get("method", "linear")), header.get("info") or {}
    names, names2 = header.get("feature_names"), header.get("feature_names_view2")
    try:
        if n_views == 1:
            fitted: LinearMap | TwoViewMap = LinearMap(arrays["mean"], arrays["components"], method=method, info=info, feature_names=names)
            widths = {"n_features": fitted.n_features_in_}
        else:
            fitted = TwoViewMap(
                arrays["x_mean"], arrays["x_components"], arrays["y_mean"], arrays["y_components"], method=method, info=info,
                x_feature_names=names, y_feature_names=names2,
            )
            widths = {"n_features": fitted.n_features_in_, "n_features_view2": fitted.y_components_.shape[1]}
    except ValueError as exc:
        raise _fail(text, str(exc)) from None
    widths["n_components"] = fitted.n_components
    for key, actual in widths.items():
        if header.get(key) != actual:
            raise _fail(text, f"header says {key} = {header.get(key)!r} but the arrays have {actual}.")
    return header, fitted


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "FeatureMismatchError",
    "LinearMap",
    "TwoViewMap",
    "feature_names",
    "check_feature_names",
    "as_linear_map",
    "learner_summary",
    "save_model",
    "load_model",
    "model_summary",
]
