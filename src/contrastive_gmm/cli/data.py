"""``cgmm fit`` and ``cgmm transform``: use a learned projection on your own data without writing Python.

These commands only compose library functions: :func:`~contrastive_gmm.load_data_file` reads
the data, :func:`~contrastive_gmm.fit_embedding` fits the map exactly as the real-data study
does, :func:`~contrastive_gmm.save_model` / :func:`~contrastive_gmm.load_model` write and read
the model (numpy arrays plus a JSON header; nothing is unpickled), and
:func:`~contrastive_gmm.write_embedding` writes the result. A file or option the user can fix
gives one line on stderr and exit code 2, never a traceback; the library's warnings are shown
as one ``warning: ...`` line each. Errors name the option the user typed (``--out``,
``--n-components``), not the library's parameter names.

Wire them into a Typer app with :func:`register`::

    from contrastive_gmm.cli.data import register
    register(app)
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from contrastive_gmm.data.datasets import DataFile

from contrastive_gmm.cli._common import user_errors
from contrastive_gmm.defaults import N_PAIRS_PER_SAMPLE, PREPROCESS_VARIANCE
from contrastive_gmm.methods import all_methods

# The library is imported inside the commands: building the app (and `cgmm --help`) needs only
# the method registry and the defaults, not torch.

#: How fit_embedding's messages name its parameters here: by the options a user typed.
_FIT_OPTIONS = {
    "n_components": "--n-components",
    "delta": "--delta",
    "variance": "--variance",
    "standardize": "--standardize",
    "n_pairs_per_sample": "--pairs-per-sample",
    "random_state": "--seed",
}


#: What ``cgmm fit`` learns: every registered method (a new one appears here with no edit).
Method = Enum("Method", {m.name: m.name for m in all_methods()}, type=str)
Method.__doc__ = "What ``cgmm fit`` learns: a name of the method registry (:mod:`contrastive_gmm.methods`)."
_METHOD_HELP = "; ".join(
    f"{', '.join(m.name for m in all_methods(kind))} ({what})"
    for kind, what in (("pairs", "pairs, no labels seen"), ("two_views", "two views"), ("labels", "labels"), ("features", "features only"))
)


def _read_table(data: Path, label_column: Optional[str], group_column: Optional[str], view2_prefix: Optional[str]) -> "DataFile":
    """Read ``--data``; a column option the user gave (not left at its default) must match a column of the table."""
    from contrastive_gmm.data.datasets import load_data_file

    given = {"label_column": label_column, "group_column": group_column, "view2_prefix": view2_prefix}
    return load_data_file(
        data,
        label_column=label_column or "label",
        group_column=group_column or "group",
        view2_prefix="view2_" if view2_prefix is None else view2_prefix,
        required=[role for role, value in given.items() if value is not None],
    )


def _describe(data: "DataFile") -> str:
    parts = [f"{data.n_samples} rows x {data.X.shape[1]} features"]
    if data.X2 is not None:
        parts.append(f"second view {data.X2.shape[1]} features")
    if data.y is not None:
        parts.append(f"{len(set(data.y.tolist()))} classes")
    if data.groups is not None:
        parts.append("groups")
    if data.pairs is not None:
        parts.append(f"{len(data.pairs)} pairs")
    return ", ".join(parts)


_LABEL = "Table column holding the labels (default: 'label' if the table has one; a column you name must exist)."
_GROUP = "Table column holding group ids: rows of a group are views of one object (default: 'group' if present; a column you name must exist)."
_VIEW2 = "Table columns with this prefix form the second view (default: 'view2_'; a prefix you give must match a column)."


#: Suffixes of data files: a model file written under one of them would pass for a table.
_DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".npy", ".json", ".txt", ".xlsx", ".xls")


def fit(
    data: Path = typer.Option(..., "--data", help="Training data: .npz, .npy, .csv or .parquet (see `cgmm fit --help`)."),
    method: Method = typer.Option(..., "--method", help=_METHOD_HELP),
    n_components: int = typer.Option(..., "--n-components", "-k", min=1, help="Embedding dimension k (K - 1 for K classes)."),
    out: Path = typer.Option(..., "--out", help="Model file to write (an .npz archive with a JSON header)."),
    delta: float = typer.Option(0.0, "--delta", min=0.0, max=1.0, help="infonce with labels or groups: fraction of partners drawn from any row."),
    seed: int = typer.Option(0, "--seed", help="Seed of the pairs and of the initialisation."),
    label_column: Optional[str] = typer.Option(None, "--label-column", help=_LABEL, show_default=False),
    group_column: Optional[str] = typer.Option(None, "--group-column", help=_GROUP, show_default=False),
    view2_prefix: Optional[str] = typer.Option(None, "--view2-prefix", help=_VIEW2, show_default=False),
    pairs_per_sample: int = typer.Option(N_PAIRS_PER_SAMPLE, "--pairs-per-sample", min=1, help="infonce with labels or groups: partners drawn per row."),
    variance: float = typer.Option(PREPROCESS_VARIANCE, "--variance", min=0.0, max=1.0, help="Fraction of the variance the preprocessing keeps (not for pca)."),
    standardize: Optional[bool] = typer.Option(
        None, "--standardize/--no-standardize", show_default=False,
        help="Scale features to unit variance first (default: when their scales differ so much that the raw units would decide what the preprocessing keeps).",
    ),
) -> None:
    """Fit a projection on a data file and save it as a model file.

    Tables (.csv with a header row, .parquet): column `label` = labels, `group` = group ids,
    `view2_*` = second view, every other column a numeric feature; the model file records
    the feature columns' names and order, and `cgmm transform` checks them. .npz: arrays X,
    and y, X2, pairs (m x 2 row indices) or groups. .npy: features only (fine for pca).
    infonce's positives, first that applies: pairs, groups, a second view of the same
    width, labels (a random other row of the class).
    """
    from contrastive_gmm.embedding import describe_preprocessing, fit_embedding
    from contrastive_gmm.model_io import TwoViewMap, save_model

    with user_errors():
        if out.suffix.lower() in _DATA_SUFFIXES:  # before any work: a model under a table's suffix reads as a file it is not
            raise ValueError(f"--out: a model file is an .npz archive; got {str(out)!r} (try {str(out.with_suffix('.npz'))!r}).")
        table = _read_table(data, label_column, group_column, view2_prefix)
        # A table's labels and groups are columns: messages name the column, an array file's the key.
        columns = {} if table.feature_names is None else {
            "y": f"the label column {label_column or 'label'!r}", "groups": f"the group column {group_column or 'group'!r}"
        }
        model = fit_embedding(
            method.value, table.X, n_components=n_components, y=table.y, X2=table.X2, pairs=table.pairs, groups=table.groups,
            delta=delta, n_pairs_per_sample=pairs_per_sample, variance=variance,
            standardize="auto" if standardize is None else standardize, random_state=seed,
            feature_names=table.feature_names, feature_names_view2=table.view2_names, option_names=_FIT_OPTIONS | columns,
        )
        model.info["data"] = str(data)
        path = save_model(model, out)
        typer.echo(f"Preprocessing: {describe_preprocessing(model.info)}.")
        widths = f"{model.n_features_in_} + {model.y_components_.shape[1]}" if isinstance(model, TwoViewMap) else f"{model.n_features_in_}"
        typer.echo(f"Fitted {method.value} on {_describe(table)}: {widths} -> {model.n_components} features. Wrote {path}.")


def transform(
    model: Path = typer.Option(..., "--model", help="A model file written by `cgmm fit`."),
    data: Path = typer.Option(..., "--data", help="Data to embed (.npz, .npy, .csv or .parquet), same feature columns, in the same order, as for fit."),
    out: Path = typer.Option(..., "--out", help="Where to write the embedding: .npz (X, X2, y), .csv (z0.., view2_z0.., label), .npy or .parquet."),
    view: int = typer.Option(1, "--view", min=1, max=2, help="clip models: which view's map embeds the data's main features."),
    label_column: Optional[str] = typer.Option(None, "--label-column", help=_LABEL + " Copied to the output.", show_default=False),
    group_column: Optional[str] = typer.Option(None, "--group-column", help=_GROUP + " Not embedded.", show_default=False),
    view2_prefix: Optional[str] = typer.Option(None, "--view2-prefix", help=_VIEW2, show_default=False),
) -> None:
    """Embed a data file with a saved model; labels, if any, are copied to the output.

    A table's feature columns must be the ones the model was fitted on, in the same order
    (models fitted on tables record them). With a clip model, the features are embedded with
    view 1's map (--view 2: view 2's) and a second view in the file, if any, with the other map.
    """
    from contrastive_gmm.data.datasets import check_output_path, write_embedding
    from contrastive_gmm.model_io import TwoViewMap, check_feature_names, load_model

    with user_errors():
        fitted = load_model(model)
        table = _read_table(data, label_column, group_column, view2_prefix)
        if isinstance(fitted, TwoViewMap):
            main, other = (fitted.view(1), fitted.view(2)) if view == 1 else (fitted.view(2), fitted.view(1))
        else:
            if view != 1:
                raise ValueError(f"--view 2 needs a two-view (clip) model; {model} holds a one-view {fitted.method} map.")
            main, other = fitted, None
        embed_x2 = other is not None and table.X2 is not None
        check_output_path(out, two_views=embed_x2, name="--out")  # before any work
        check_feature_names(main, table.X.shape[1], table.feature_names, what=str(data))
        if embed_x2:
            prefix = "view2_" if view2_prefix is None else view2_prefix
            check_feature_names(other, table.X2.shape[1], table.view2_names, what=f"{data} (its second view, the {prefix}* columns)")
        Z = main.transform(table.X)
        Z2 = other.transform(table.X2) if embed_x2 else None
        path = write_embedding(out, Z, Z2=Z2, y=table.y)
        extra = f" and its second view ({Z2.shape[0]} x {Z2.shape[1]})" if Z2 is not None else ""
        typer.echo(f"Embedded {Z.shape[0]} rows with the {fitted.method} map: {table.X.shape[1]} -> {Z.shape[1]} features{extra}. Wrote {path}.")


def register(app: typer.Typer) -> None:
    """Add the ``fit`` and ``transform`` commands to a Typer app.

    Examples
    --------
    >>> app = typer.Typer()
    >>> register(app)
    >>> sorted(c.name for c in app.registered_commands)
    ['fit', 'transform']
    """
    app.command("fit")(fit)
    app.command("transform")(transform)


__all__ = ["Method", "fit", "transform", "register"]
