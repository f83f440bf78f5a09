"""``cgmm fit``, ``cgmm transform`` and ``cgmm info``: use a learned projection on your own data without writing Python.

These commands only compose library functions: :func:`~contrastive_gmm.load_data_file` reads
the data, :func:`~contrastive_gmm.fit_embedding` fits the map exactly as the real-data study
does, :func:`~contrastive_gmm.save_model` / :func:`~contrastive_gmm.load_model` write and read
the model (numpy arrays plus a JSON header; nothing is unpickled), and
:func:`~contrastive_gmm.write_embedding` writes the result; :func:`~contrastive_gmm.model_io.model_summary`
says what a model file holds (``cgmm info``). A file or option the user can fix
gives one line on stderr and exit code 2, never a traceback; the library's warnings are shown
as one ``warning: ...`` line each. Errors name the option the user typed (``--out``,
``--n-components``), not the library's parameter names.

Wire them into a Typer app with :func:`register`::

    from contrastive_gmm.cli.data import register
    register(app)
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import textwrap
import time
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional

import typer

if TYPE_CHECKING:
    from contrastive_gmm.data.datasets import DataFile
    from contrastive_gmm.methods import Method as MethodSpec

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
    "distributed": "--distributed",
    "scheduler": "--scheduler",
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


#: The options that set a parameter of the method's estimator: option -> (parameter, the methods
#: whose estimator takes it, for the help; the check itself asks each estimator, and a test keeps
#: these lists equal to the registry's).
_TRAINED = ("infonce", "spectral", "simclr", "simsiam", "barlow_twins", "vicreg", "supcon", "clip", "siglip")
_ESTIMATOR_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "--temperature": ("temperature", ("infonce", "simclr", "supcon", "clip", "siglip")),
    "--epochs": ("max_epochs", _TRAINED),
    "--batch-size": ("batch_size", _TRAINED),
    "--device": ("device", _TRAINED),
}
#: Methods that draw nothing at random in fit_embedding: no seeded estimator and no drawn pairs
#: (pca is the full SVD there, although scikit-learn's PCA takes a random_state for other solvers).
_UNSEEDED = ("lda", "pca", "cca", "pls_svd")


def _takes(spec: "MethodSpec", parameter: str) -> bool:
    """Whether ``cgmm fit`` can pass ``parameter`` to ``spec``'s estimator (``random_state``: whether the fit draws anything)."""
    if parameter == "random_state":
        return spec.inputs == "pairs" or ("random_state" in spec.parameters() and spec.name not in _UNSEEDED)
    return parameter in spec.parameters()


def _estimator_options(spec: "MethodSpec", given: Mapping[str, Any], seed: Optional[int]) -> dict[str, Any]:
    """The estimator's parameters set by the options the user gave (``given``: option -> value or None).

    An option the method has no use for is an error naming both, never silently dropped.
    """
    from contrastive_gmm.methods import all_methods

    def refuse(option: str, parameter: str, why: str) -> ValueError:
        others = [m.name for m in all_methods() if _takes(m, parameter)]
        return ValueError(f"{option}: {why}; {option} applies to {', '.join(others)} only.")

    if seed is not None and not _takes(spec, "random_state"):
        raise refuse("--seed", "random_state", f"{spec.name} draws nothing at random (no random start, no drawn pairs), so a seed would change nothing")
    options: dict[str, Any] = {}
    for option, value in given.items():
        if value is None:
            continue
        parameter = _ESTIMATOR_OPTIONS[option][0]
        if not _takes(spec, parameter):
            raise refuse(option, parameter, f"{spec.name}'s estimator ({spec.estimator_class().__name__}) has no {parameter} parameter")
        options[parameter] = value
    if "temperature" in options and not (math.isfinite(options["temperature"]) and options["temperature"] > 0):
        raise ValueError(f"--temperature must be a finite number > 0; got {options['temperature']:g}.")
    if "device" in options:
        from contrastive_gmm.learners.training import check_device

        try:  # before reading the data: a device torch cannot use fails here, not after the preprocessing
            check_device(options["device"])
        except ValueError as exc:
            raise ValueError(f"--device: {exc}") from None
    return options


# Built once here: Sphinx cannot read an f-string written as a default argument (it fails the -W build).
_SEED_HELP = f"Seed of the drawn pairs and of the random start (default 0); not for {', '.join(_UNSEEDED)}, which draw nothing at random."
_TEMPERATURE_HELP = f"Temperature of the loss (default: the method's); {', '.join(_ESTIMATOR_OPTIONS['--temperature'][1])} only."


def fit(
    data: Path = typer.Option(..., "--data", help="Training data: .npz, .npy, .csv or .parquet (see `cgmm fit --help`)."),
    method: Method = typer.Option(..., "--method", help=_METHOD_HELP),
    n_components: int = typer.Option(..., "--n-components", "-k", min=1, help="Embedding dimension k (K - 1 for K classes)."),
    out: Path = typer.Option(..., "--out", help="Model file to write (an .npz archive with a JSON header)."),
    delta: float = typer.Option(0.0, "--delta", min=0.0, max=1.0, help="infonce with labels or groups: fraction of partners drawn from any row."),
    seed: Optional[int] = typer.Option(
        None, "--seed", show_default=False,
        help=_SEED_HELP,
    ),
    temperature: Optional[float] = typer.Option(
        None, "--temperature", show_default=False,
        help=_TEMPERATURE_HELP,
    ),
    epochs: Optional[int] = typer.Option(
        None, "--epochs", min=1, show_default=False,
        help="Most passes over the pairs (the estimator's max_epochs; default: until the loss stops improving); trained methods only.",
    ),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, show_default=False, help="Pairs per training step (default: the method's); trained methods only."),
    device: Optional[str] = typer.Option(None, "--device", show_default=False, help="Torch device to train on: cpu (default), cuda, cuda:1, ...; trained methods only."),
    label_column: Optional[str] = typer.Option(None, "--label-column", help=_LABEL, show_default=False),
    group_column: Optional[str] = typer.Option(None, "--group-column", help=_GROUP, show_default=False),
    view2_prefix: Optional[str] = typer.Option(None, "--view2-prefix", help=_VIEW2, show_default=False),
    pairs_per_sample: int = typer.Option(N_PAIRS_PER_SAMPLE, "--pairs-per-sample", min=1, help="infonce with labels or groups: partners drawn per row."),
    variance: float = typer.Option(PREPROCESS_VARIANCE, "--variance", min=0.0, max=1.0, help="Fraction of the variance the preprocessing keeps (not for pca)."),
    standardize: Optional[bool] = typer.Option(
        None, "--standardize/--no-standardize", show_default=False,
        help="Scale features to unit variance first (default: when their scales differ so much that the raw units would decide what the preprocessing keeps).",
    ),
    verbose: Optional[bool] = typer.Option(
        None, "--verbose/--quiet", show_default=False,
        help="--verbose: a progress bar (on stderr) while a trained method learns; default: when stderr is a terminal. "
        "--quiet: no bar and no summary; warnings and errors only.",
    ),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", show_default=False,
        help="Shards (--data a glob) and a closed form (pair_cca, cca, pls_svd): run the moments on this Dask scheduler, e.g. tcp://10.0.0.1:8786.",
    ),
    distributed: bool = typer.Option(
        False, "--distributed", show_default=False,
        help="Shards and infonce, simclr or clip under torchrun: each process reads its shards and trains with torch.distributed.",
    ),
) -> None:
    """Fit a projection on a data file and save it as a model file.

    Tables (.csv with a header row, .parquet): column `label` = labels,
    `group` = group ids, `view2_*` = the second view, any other column a
    numeric feature; the model file records the feature columns' names and
    order, and `cgmm transform` checks them.
    .npz: arrays X, and y, X2, pairs (m x 2 row indices) or groups.
    .npy: features only (fine for pca).
    infonce's positives, first that applies: pairs, groups, a second view of
    the same width, labels (a random other row of the class).

    --temperature, --epochs, --batch-size and --device set the trained
    estimator's parameters; one the method does not take is an error.
    The model file also records the data file and its shape, the fit time,
    the estimator's parameters and its diagnostics: `cgmm info MODEL`.

    Shards: --data 'parts/*.npz' (quoted: a glob), each .npz holding
    row-paired views X and X2, fits on the features as given, never
    loading the data whole: pair_cca, cca and pls_svd as a Dask reduction
    (--scheduler ADDRESS: on that cluster), infonce, simclr and clip with
    --distributed under torchrun (process r reads shards r, r + W, ...):
    torchrun --nproc-per-node 2 $(which cgmm) fit --data 'parts/*.npz'
    --method infonce -k 8 --out model.npz --distributed
    """
    from contrastive_gmm.embedding import describe_preprocessing, fit_embedding
    from contrastive_gmm.methods import get_method
    from contrastive_gmm.model_io import TwoViewMap, save_model

    with user_errors():
        if out.suffix.lower() in _DATA_SUFFIXES:  # before any work: a model under a table's suffix reads as a file it is not
            raise ValueError(f"--out: a model file is an .npz archive; got {str(out)!r} (try {str(out.with_suffix('.npz'))!r}).")
        spec = get_method(method.value)
        given = {"--temperature": temperature, "--epochs": epochs, "--batch-size": batch_size, "--device": device}
        options = _estimator_options(spec, given, seed)
        # The learners' bar goes to stderr (tqdm's default): stdout keeps only the summary below.
        if (sys.stderr.isatty() if verbose is None else verbose) and "verbose" in spec.parameters():
            options["verbose"] = True
        if _is_glob(str(data)) or scheduler is not None or distributed:
            given_table = {"--label-column": label_column, "--group-column": group_column, "--view2-prefix": view2_prefix,
                           "--standardize/--no-standardize": standardize, "--delta": delta or None,
                           "--pairs-per-sample": None if pairs_per_sample == N_PAIRS_PER_SAMPLE else pairs_per_sample,
                           "--variance": None if variance == PREPROCESS_VARIANCE else variance}
            _fit_shards(data, spec, n_components, out, seed, options, scheduler, distributed, verbose, given_table)
            return
        table = _read_table(data, label_column, group_column, view2_prefix)
        # A table's labels and groups are columns: messages name the column, an array file's the key.
        columns = {} if table.feature_names is None else {
            "y": f"the label column {label_column or 'label'!r}", "groups": f"the group column {group_column or 'group'!r}"
        }
        # A method that draws nothing gets no seed, so its model file records none.
        random_state = (0 if seed is None else seed) if _takes(spec, "random_state") else None
        start = time.perf_counter()
        model = fit_embedding(
            method.value, table.X, n_components=n_components, y=table.y, X2=table.X2, pairs=table.pairs, groups=table.groups,
            delta=delta, n_pairs_per_sample=pairs_per_sample, variance=variance,
            standardize="auto" if standardize is None else standardize, random_state=random_state,
            feature_names=table.feature_names, feature_names_view2=table.view2_names, option_names=_FIT_OPTIONS | columns,
            estimator_options=options,
        )
        seconds = time.perf_counter() - start
        model.info.update(
            data=str(data), data_shape=list(table.X.shape), data_description=_describe(table),
            fit_seconds=round(seconds, 3), fitted_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        if table.X2 is not None:
            model.info["data_shape_view2"] = list(table.X2.shape)
        path = save_model(model, out)
        if verbose is not False:
            typer.echo(f"Preprocessing: {describe_preprocessing(model.info)}.")
            widths = f"{model.n_features_in_} + {model.y_components_.shape[1]}" if isinstance(model, TwoViewMap) else f"{model.n_features_in_}"
            typer.echo(f"Fitted {method.value} on {_describe(table)}: {widths} -> {model.n_components} features in {seconds:.1f} s. Wrote {path}.")


def _is_glob(text: str) -> bool:
    from contrastive_gmm.data.shards import is_glob

    return is_glob(text)


def _fit_shards(
    data: Path, spec: "MethodSpec", n_components: int, out: Path, seed: Optional[int], options: dict[str, Any],
    scheduler: Optional[str], distributed: bool, verbose: Optional[bool], given: Mapping[str, Any],
) -> None:
    """``cgmm fit`` on shards: :func:`~contrastive_gmm.embedding.fit_shards`, the model written by process 0 only."""
    from contrastive_gmm import distributed as dist_
    from contrastive_gmm.data.shards import expand_shards
    from contrastive_gmm.embedding import fit_shards
    from contrastive_gmm.model_io import save_model

    if not _is_glob(str(data)):
        which = "--scheduler" if scheduler is not None else "--distributed"
        raise ValueError(f"{which} fits shards: pass --data a quoted glob of .npz files such as 'parts/*.npz'; got {str(data)!r}.")
    unused = [option for option, value in given.items() if value is not None]
    if unused:
        raise ValueError(f"{unused[0]}: shards are fitted on their features as given (X and X2 of each .npz); it does not apply.")
    paths = expand_shards(str(data))
    if distributed:
        options = {**options, "device": dist_.init_from_environment(options.get("device", "cpu"))}
    try:
        start = time.perf_counter()
        model = fit_shards(
            spec.name, paths, n_components=n_components, random_state=0 if seed is None else seed, estimator_options=options,
            scheduler=scheduler, distributed=distributed, option_names=_FIT_OPTIONS,
        )
        seconds = time.perf_counter() - start
        if dist_.rank() > 0:
            return  # every process holds the same map; one writes it
        width = model.n_features_in_
        description = f"{len(paths)} shards, {model.info['n_pairs']} pairs"
        model.info.update(
            data=str(data), data_shape=[model.info["n_pairs"], width], data_description=description, fit_seconds=round(seconds, 3),
            fitted_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        path = save_model(model, out)
        if verbose is not False:
            where = f" on {dist_.world_size()} processes" if distributed else (f" on the Dask cluster at {scheduler}" if scheduler else "")
            typer.echo(f"Fitted {spec.name} on {description}{where} in {seconds:.1f} s: {model.n_components} features. Wrote {path}.")
    finally:
        if distributed and dist_.is_initialized():
            import torch.distributed

            torch.distributed.destroy_process_group()


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


#: Feature names shown in full up to this many; more are abbreviated to the first and last few.
_NAMES_SHOWN = 8
#: ``info`` keys that ``cgmm info`` shows on their own lines; any others are listed under "Other info".
_SHOWN_INFO = frozenset({
    "method", "n_components", "random_state", "standardize", "standardize_view2", "preprocessing", "preprocessing_view2",
    "n_pairs", "delta", "positives", "pair_whitened", "data", "data_shape", "data_shape_view2", "data_description",
    "fit_seconds", "fitted_at", "learner",
})


#: How fit_embedding's ``positives`` were made, in words.
_POSITIVES = {
    "labels": "drawn from the labels (same class)", "groups": "drawn from the groups (same group)",
    "pairs": "given in the data file", "rows": "row by row (row i with row i of the other view)",
}


def _names_line(names: Optional[list], width: int) -> str:
    """Feature names, abbreviated when many: ``a, b, c, d, ..., y, z (26 columns)``."""
    if names is None:
        return f"{width} unnamed columns (fitted on an array file)"
    shown = names if len(names) <= _NAMES_SHOWN else [*names[:4], "...", *names[-2:]]
    return ", ".join(shown) + (f" ({len(names)} columns)" if len(names) > _NAMES_SHOWN else "")


def _value(value: object) -> str:
    """A parameter or diagnostic as text: floats to 4 significant digits, strings quoted, lists comma-separated."""
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value) if isinstance(value, str) else str(value)


def _summary_lines(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``cgmm info``'s (label, text) lines for a :func:`~contrastive_gmm.model_io.model_summary`."""
    from contrastive_gmm.embedding import describe_preprocessing

    info = summary["info"]
    two = summary["n_views"] == 2
    lines = [
        ("Model file", f"{summary['path']} (model format {summary['format_version']}, written by contrastive-gmm {summary['library_version'] or '(unrecorded)'})"),
        ("Method", f"{summary['method']}" + (f" ({summary['label']})" if summary["label"] and summary["label"] != summary["method"] else "")
         + (", two views (one map each)" if two else ", one view")),
    ]
    if two:
        lines.append(("Input widths", f"view 1: {summary['n_features']} features; view 2: {summary['n_features_view2']} features"))
    else:
        lines.append(("Input width", f"{summary['n_features']} features"))
    lines.append(("Output width", f"{summary['n_components']} components"))
    lines.append(("Features" + (" (view 1)" if two else ""), _names_line(summary["feature_names"], summary["n_features"])))
    if two:
        lines.append(("Features (view 2)", _names_line(summary["feature_names_view2"], summary["n_features_view2"])))
    if "preprocessing" in info:
        lines.append(("Preprocessing", describe_preprocessing(info)))
    if "positives" in info:
        whitened = {True: ", pair-whitened output", False: ", output as trained"}.get(info.get("pair_whitened"), "")
        source = _POSITIVES.get(info["positives"], f"from the {info['positives']}")
        lines.append(("Positives", f"{info.get('n_pairs', '?')} pairs {source}, delta {info.get('delta', 0):g}{whitened}"))
    if "data" in info:
        shape = info.get("data_description") or (" x ".join(map(str, info["data_shape"])) if "data_shape" in info else "shape not recorded")
        lines.append(("Training data", f"{info['data']}: {shape}"))
    else:
        lines.append(("Training data", "not recorded (saved from Python, or by an older cgmm fit)"))
    if "fit_seconds" in info:
        lines.append(("Fit time", f"{info['fit_seconds']:.2f} s" + (f" (fitted {info['fitted_at']})" if info.get("fitted_at") else "")))
    else:
        lines.append(("Fit time", "not recorded"))
    if info.get("random_state") is not None:
        lines.append(("Seed", str(info["random_state"])))
    learner = info.get("learner")
    if isinstance(learner, dict):
        params = learner.get("params") or {}
        lines.append(("Estimator", f"{learner.get('estimator', '?')}(" + ", ".join(f"{k}={_value(v)}" for k, v in params.items()) + ")"))
        for name, value in (learner.get("diagnostics") or {}).items():
            lines.append(("Diagnostics" if name == next(iter(learner["diagnostics"])) else "", f"{name} = {_value(value)}"))
    else:
        lines.append(("Estimator", "parameters and diagnostics not recorded (written by an older version, or saved from a map, not an estimator)"))
    other = {k: v for k, v in info.items() if k not in _SHOWN_INFO}
    if other:
        lines.append(("Other info", json.dumps(other, sort_keys=True)))
    return lines


def info(
    model: Path = typer.Argument(..., help="A model file written by `cgmm fit` (or `contrastive_gmm.save_model`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the same as one JSON object (for scripts)."),
) -> None:
    """Show what a model file is: method, widths, feature names, preprocessing, training data, fit time, parameters, diagnostics.

    Files written by older versions, or saved from Python, record less; what a file lacks is
    said to be "not recorded".
    """
    from contrastive_gmm.model_io import model_summary

    with user_errors():
        summary = model_summary(model)
        if as_json:
            typer.echo(json.dumps(summary, indent=2))
            return
        lines = _summary_lines(summary)
        indent = max(len(label) for label, _ in lines) + 2
        wrap = max(shutil.get_terminal_size((100, 24)).columns, 60)
        for label, text in lines:
            head = f"{label + ':' if label else '':<{indent}}"
            typer.echo(textwrap.fill(text, wrap, initial_indent=head, subsequent_indent=" " * indent, break_on_hyphens=False, break_long_words=False))


def register(app: typer.Typer) -> None:
    """Add the ``fit``, ``transform`` and ``info`` commands to a Typer app.

    Examples
    --------
    >>> app = typer.Typer()
    >>> register(app)
    >>> sorted(c.name for c in app.registered_commands)
    ['fit', 'info', 'transform']
    """
    app.command("fit")(fit)
    app.command("transform")(transform)
    app.command("info")(info)


__all__ = ["Method", "fit", "transform", "info", "register"]
