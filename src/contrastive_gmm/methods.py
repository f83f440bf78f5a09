"""The method registry: every method the command line, the model files, the studies and the figures know, declared once.

A :class:`Method` is a name (``cgmm fit --method``, a model file's ``method``), a display label
(tables, legends), where its estimator lives (a ``"module:attribute"`` string, imported only
when a method is built: the registry itself needs neither torch nor the learners, so
``cgmm --help`` lists the methods without importing them), what it is fitted on
(``inputs``), and its colour, line and marker in every figure.

``inputs``: ``"pairs"`` (row-paired views of one modality, ``fit(X, X_pos)``), ``"labels"``
(``fit(X, y)``), ``"features"`` (``fit(X)``), ``"two_views"`` (two modalities,
``fit(X, Y)``).

Examples
--------
>>> get_method("barlow_twins").label, get_method("Barlow Twins").inputs
('Barlow Twins', 'pairs')
>>> model = get_method("pair_cca").build(2)
>>> type(model).__name__
'PairCCA'
>>> method_names("two_views")
['clip', 'siglip', 'cca', 'pls_svd']
"""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

Inputs = Literal["pairs", "labels", "features", "two_views"]
INPUTS: tuple[str, ...] = ("pairs", "labels", "features", "two_views")

#: Okabe & Ito's colour-blind-safe palette, plus two of Paul Tol's for methods beyond its eight.
PALETTE: dict[str, str] = {
    "vermillion": "#D55E00", "blue": "#0072B2", "green": "#009E73", "grey": "#8C8C8C", "purple": "#CC79A7",
    "orange": "#E69F00", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000",
    "indigo": "#332288", "wine": "#882255",
}


@dataclass(frozen=True)
class Method:
    """One method: its names, its estimator, what it is fitted on, and how figures draw it."""

    name: str
    label: str
    target: str
    inputs: Inputs
    colour: str
    line: str = "-"
    marker: str = "o"
    #: Options the method always gets (``options`` of :meth:`build` override them).
    defaults: dict[str, Any] = field(default_factory=dict)
    #: The estimator finds at most (number of classes - 1) directions (LDA).
    classes_limit: bool = False

    def estimator_class(self) -> type:
        """The estimator's class (imported now, on first use)."""
        module, attr = self.target.split(":")
        return getattr(importlib.import_module(module), attr)

    def parameters(self) -> list[str]:
        """The estimator's constructor parameters (what a study spec may set)."""
        return [p for p in inspect.signature(self.estimator_class()).parameters if p not in ("self", "n_components")]

    def build(self, n_components: int, random_state: int | None = None, **options: Any) -> Any:
        """A fresh, unfitted estimator with ``n_components`` directions (seeded, when it takes a seed)."""
        cls = self.estimator_class()
        params = {**self.defaults, **options}
        unknown = sorted(set(params) - set(self.parameters()))
        if unknown:
            raise TypeError(f"{self.name}: unknown option(s) {unknown}; {cls.__name__} takes {self.parameters()}.")
        if "random_state" in self.parameters():
            params.setdefault("random_state", random_state)
        return cls(n_components=n_components, **params)

    @property
    def style(self) -> tuple[str, str, str]:
        """(colour, line style, marker) in every figure."""
        return self.colour, self.line, self.marker


_P = PALETTE
_REGISTRY: dict[str, Method] = {}


def register_method(method: Method) -> Method:
    """Add ``method`` (its name and label must be new); returns it."""
    for key in (method.name, method.label):
        if key in _REGISTRY:
            raise ValueError(f"a method named {key!r} is registered already ({_REGISTRY[key].target}).")
    if method.inputs not in INPUTS:
        raise ValueError(f"inputs must be one of {INPUTS}; got {method.inputs!r}.")
    _REGISTRY[method.name] = _REGISTRY[method.label] = method
    return method


def get_method(name: str) -> Method:
    """The method registered under ``name`` or under the display label ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; the methods are {method_names()}.") from None


def find_method(name: str) -> Method | None:
    """The method registered under ``name`` (name or label), or None."""
    return _REGISTRY.get(name)


def all_methods(inputs: str | Sequence[str] | None = None) -> list[Method]:
    """Every registered method (those fitted on ``inputs``), in registration order."""
    wanted = (inputs,) if isinstance(inputs, str) else inputs
    unique = {m.name: m for m in _REGISTRY.values()}  # each method is there under its name and its label
    return [m for m in unique.values() if wanted is None or m.inputs in wanted]


def method_names(inputs: str | Sequence[str] | None = None) -> list[str]:
    """The names of :func:`all_methods`."""
    return [m.name for m in all_methods(inputs)]


def method_of(model: object) -> Method | None:
    """The method whose estimator ``model`` is an instance of (its exact class), or None."""
    cls = type(model)
    for m in all_methods():
        module, attr = m.target.split(":")
        # Only modules already imported can hold the model's class (a target may be a re-export,
        # as sklearn.decomposition:PCA is of sklearn.decomposition._pca), so nothing new is imported.
        if module in sys.modules and getattr(sys.modules[module], attr, None) is cls:
            return m
    return None


for _m in (
    # Contrastive learners vermillion, closed forms blue (dashed: the references a learner should
    # reach), label-fed methods green (dotted), PCA grey, the others from the rest of the palette.
    Method("infonce", "InfoNCE", "contrastive_gmm.learners.infonce:InfoNCE", "pairs", _P["vermillion"], "-", "o"),
    Method("pair_cca", "pair CCA", "contrastive_gmm.learners.closed_form:PairCCA", "pairs", _P["blue"], "--", "s"),
    Method("spectral", "spectral contrastive", "contrastive_gmm.learners.zoo:SpectralContrastiveLearner", "pairs", _P["sky"], "-", "D"),
    Method("simclr", "SimCLR", "contrastive_gmm.learners.zoo:SimCLR", "pairs", _P["orange"], "-", "v"),
    Method("simsiam", "SimSiam", "contrastive_gmm.learners.zoo:SimSiam", "pairs", _P["yellow"], "-", "P"),
    Method("barlow_twins", "Barlow Twins", "contrastive_gmm.learners.zoo:BarlowTwins", "pairs", _P["indigo"], "-", "h"),
    Method("vicreg", "VICReg", "contrastive_gmm.learners.zoo:VICReg", "pairs", _P["wine"], "-", "*"),
    Method("spectral_on_means", "spectral on means", "contrastive_gmm.learners.closed_form:SpectralOnMeans", "pairs",
           _P["purple"], "-", "D"),
    Method("supcon", "SupCon (labels)", "contrastive_gmm.learners.zoo:SupCon", "labels", _P["green"], ":", "^"),
    Method("lda", "LDA (labels)", "sklearn.discriminant_analysis:LinearDiscriminantAnalysis", "labels", _P["green"], ":", "^",
           classes_limit=True),
    Method("pca", "PCA", "sklearn.decomposition:PCA", "features", _P["grey"], "-", "x"),
    Method("clip", "CLIP", "contrastive_gmm.learners.two_tower:CLIP", "two_views", _P["vermillion"], "-", "o"),
    Method("siglip", "SigLIP", "contrastive_gmm.learners.two_tower:SigLIP", "two_views", _P["sky"], "-", "D"),
    Method("cca", "CCA", "contrastive_gmm.learners.closed_form:CCA", "two_views", _P["blue"], "--", "s"),
    Method("pls_svd", "PLS-SVD", "contrastive_gmm.learners.closed_form:PLSSVD", "two_views", _P["orange"], "-", "v"),
):
    register_method(_m)
del _m


__all__ = [
    "Method",
    "INPUTS",
    "PALETTE",
    "register_method",
    "get_method",
    "find_method",
    "all_methods",
    "method_names",
    "method_of",
]
