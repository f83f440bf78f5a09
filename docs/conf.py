"""Sphinx configuration of the API reference (built in CI with warnings as errors)."""

from __future__ import annotations

import contrastive_gmm

project = "contrastive-gmm"
author = "contrastive-gmm developers"
release = contrastive_gmm.__version__
version = release

extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode", "sphinx.ext.intersphinx", "numpydoc"]

# The docstrings are numpydoc; the class pages list members through autodoc, not numpydoc's
# autosummary tables (which would need generated stub pages per method).
numpydoc_show_class_members = False
# scikit-learn generates set_fit_request / set_transform_request for any fit taking sample_weight; their
# docstrings point into scikit-learn's own glossary, which this build cannot resolve (and they are its API).
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "member-order": "bysource",
    "exclude-members": "set_fit_request, set_transform_request, set_partial_fit_request, set_score_request",
}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# Every cross-reference written in a docstring must resolve: a renamed or moved name fails the build.
nitpicky = True
nitpick_ignore_regex = [
    # Third-party and standard-library names have no inventory here (the build runs offline), nor
    # do the annotations pydantic generates for constrained fields.
    ("py:.*", r"(numpy|np|scipy|torch|nn|sklearn|pydantic|pydantic_core|annotated_types|pandas|dask|typer|pathlib|typing"
              r"|collections|os|types|enum|builtins)\..*"),
    ("py:class", r"(ArrayLike|NDArray|Tensor|Path|Literal|Callable|Iterable|Iterator|Sequence|Mapping|Any|Self|T"
                 r"|_PydanticGeneralMetadata|dict\[.*)"),
    ("py:class", r".*\.(RandomState|LossFn|Similarity|Task|Array)"),
    # Private bases shown by show-inheritance, and pydantic validators shown as field annotations.
    ("py:class", r"contrastive_gmm\..*\._\w+"),
    ("py:class", r"contrastive_gmm\.experiments\..*\.check_\w+"),
]
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "alabaster"
html_title = f"contrastive-gmm {release}"
exclude_patterns = ["_build"]


def _canonical(target: str) -> str | None:
    """The documented path of ``target`` when it names a public object by an alias.

    Docstrings write ``contrastive_gmm.InfoNCE`` (the name users type) or a bare ``CollapseWarning``;
    the reference pages document each object once, in the module that defines it.
    """
    import importlib

    parts = target.removeprefix("contrastive_gmm.").split(".")
    for owner in ("contrastive_gmm", *sorted(m for m in __import__("sys").modules if m.startswith("contrastive_gmm."))):
        obj = importlib.import_module(owner)
        try:
            for part in parts:
                obj = getattr(obj, part)
        except AttributeError:
            continue
        if isinstance(obj, type(importlib)):
            return obj.__name__
        obj = getattr(obj, "fget", obj)  # a property: where its getter is defined
        module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if module and qualname and module.startswith("contrastive_gmm"):
            return f"{module}.{qualname}"
        return None
    return None


def _resolve_alias(app, env, node, contnode):  # noqa: ANN001 - Sphinx's event signature
    if node.get("refdomain") != "py":
        return None
    canonical = _canonical(node["reftarget"])
    if canonical is None or canonical == node["reftarget"]:
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode)


def setup(app) -> None:  # noqa: ANN001
    """Resolve references to public names through their aliases (see :func:`_canonical`)."""
    app.connect("missing-reference", _resolve_alias)
