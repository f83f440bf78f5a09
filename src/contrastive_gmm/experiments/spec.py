"""Study specs: TOML files validated with pydantic, one per study, shipped in ``contrastive_gmm/experiments/studies``.

A spec names its *kind* (a registered study type, see :mod:`contrastive_gmm.experiments.engine`), its
root seed and number of replicates, the settings it sweeps and the claims its report checks.
Every problem is reported before any work as one :class:`ConfigError` line that names the
field, e.g. ``anisotropy.toml: seeds: Input should be greater than or equal to 1 (got 0)``.

A ``[quick]`` table in a spec overlays the spec for ``--quick`` runs: tables merge key by key,
lists of tables merge element by element (``[[quick.sweeps]]`` changes the first sweep, and
so on), anything else replaces the value.

Examples
--------
>>> spec = parse_study(
...     {"kind": "fisher", "name": "tiny", "title": "Tiny", "seed": 1, "seeds": 2,
...      "methods": [{"learner": "pair_cca"}, {"learner": "pca"}],
...      "sweeps": [{"axis": "n_pairs", "values": [500, 1000]}],
...      "quick": {"seeds": 1}},
...     source="tiny", quick=True)
>>> spec.seeds, [s.label for s in spec.expand()]
(1, ['n_pairs=500', 'n_pairs=1000'])
>>> parse_study({"kind": "fisher", "name": "tiny", "title": "T", "seed": -1, "methods": [{"learner": "pca"}]},
...             source="bad.toml")
Traceback (most recent call last):
...
contrastive_gmm.experiments.spec.ConfigError: bad.toml: seed: Input should be greater than or equal to 0 (got -1)
"""

from __future__ import annotations

import copy
import functools
import tomllib
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Iterator, Optional

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)

from contrastive_gmm.experiments.claims import Claim
from contrastive_gmm.experiments.engine import StudySetting, get_kind, known_kinds


class ConfigError(ValueError):
    """A study spec is unreadable or invalid; the message is one line naming the file and field."""

    def __init__(self, message: str) -> None:
        # Keys and values come from the user's file: escape newlines and control characters so
        # the message stays one line whatever the spec holds.
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in str(message)))


class StudySpec(BaseModel):
    """Fields every study spec has; each kind subclasses it with what it sweeps.

    Subclasses implement :meth:`expand` (the settings) and may override :meth:`run_identity`
    (what, besides the setting and the seed, changes a run's result), :meth:`method_names`
    and :meth:`metric_names` (used to check the claims' names).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Fields that only change how results are shown, never a run's numbers.
    presentation_fields: ClassVar[frozenset[str]] = frozenset({"name", "title", "description", "claims", "seeds"})

    kind: str
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    title: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(ge=0, description="Root entropy of every run's numpy SeedSequence.")
    seeds: int = Field(3, ge=1, le=1000, description="Replicates per setting.")
    common_random_numbers: bool = Field(
        True,
        description="Replicate r uses the same random streams at every setting, so curves along an axis "
        "differ by the axis, not by a fresh draw.",
    )
    claims: list[Claim] = []

    def expand(self) -> list[StudySetting]:
        """The study's settings, in display order."""
        raise NotImplementedError

    def run_identity(self) -> dict[str, Any]:
        """JSON-able content that, with a setting and replicate, determines a run's numbers."""
        return self.model_dump(mode="json", by_alias=True, exclude=set(self.presentation_fields))

    def method_names(self) -> list[str]:
        """Names of the methods the runs report (empty: not checked)."""
        return []

    def metric_names(self) -> list[str]:
        """Names of the metrics the runs report (empty: not checked)."""
        return []

    def quiet_defaults(self) -> dict[str, Any]:
        """Setting parameters the report's setup line leaves out when they hold these values (their defaults)."""
        return {}

    def shown_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """A setting's parameters as the report's setup line lists them (all of them by default)."""
        return params

    def x_name(self, panel: str) -> str:
        """What a panel's x is called in a sentence ("n", "τ"); the panel's name by default."""
        return panel

    @model_validator(mode="after")
    def _claims_refer_to_known_names(self) -> "StudySpec":
        settings = self.expand()  # also validates every setting, with messages that name the field
        methods, metrics = self.method_names(), self.metric_names()
        panels = list(dict.fromkeys(s.panel for s in settings))
        labels = {s.label for s in settings}
        for i, claim in enumerate(self.claims):
            for j, check in enumerate(claim.checks):
                where = f"claims.{i}.checks.{j}"
                for role, name in (("method", check.method), ("reference", check.reference)):
                    if name is not None and methods and name not in methods:
                        raise ValueError(f"{where}.{role}: unknown method {name!r}; the study has {methods}")
                if metrics and check.metric not in metrics:
                    raise ValueError(f"{where}.metric: unknown metric {check.metric!r}; the study reports {metrics}")
                if check.panel is not None and check.panel not in panels:
                    raise ValueError(f"{where}.panel: unknown panel {check.panel!r}; the study has {panels}")
                for label in check.settings or ():
                    if label not in labels:
                        raise ValueError(f"{where}.settings: unknown setting {label!r}; the study has {sorted(labels)}")
            for name in claim.methods or ():
                if methods and name not in methods:
                    raise ValueError(f"claims.{i}.methods: unknown method {name!r}; the study has {methods}")
        return self


# ---------------------------------------------------------------------------- loading


class MethodSpec(BaseModel):
    """A method as a study spec names it: a registered ``learner`` (:mod:`contrastive_gmm.methods`), options, a display name.

    Every other key is an option of the learner's estimator, validated against its constructor's
    signature (names and types) when the spec is read, so a typo fails before any run starts.

    Examples
    --------
    >>> m = MethodSpec.model_validate({"learner": "infonce", "temperature": 1.0, "name": "InfoNCE, tau = 1"})
    >>> m.display, m.options, m.method.inputs
    ('InfoNCE, tau = 1', {'temperature': 1.0}, 'pairs')
    >>> MethodSpec.model_validate("simsiam").display
    'SimSiam'
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    learner: str
    name: Optional[str] = Field(None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"learner": value} if isinstance(value, str) else value  # a bare name: the method with its defaults

    @model_validator(mode="after")
    def _check_options(self) -> "MethodSpec":
        from contrastive_gmm.methods import find_method, method_names

        method = find_method(self.learner)
        if method is None:
            raise ValueError(f"learner: unknown method {self.learner!r}; the registered methods are {method_names()}")
        try:
            _option_model(method.name).model_validate(self.options)  # names and types, from the signature
        except ValidationError as exc:
            raise ValueError(describe_error(exc, method.name)) from None
        return self

    @property
    def method(self) -> Any:
        """The registry's :class:`~contrastive_gmm.methods.Method`."""
        from contrastive_gmm.methods import get_method

        return get_method(self.learner)

    @property
    def options(self) -> dict[str, Any]:
        """The estimator options the spec sets."""
        return dict(self.model_extra or {})

    @property
    def display(self) -> str:
        """The method's name in tables and figures: ``name``, else the registry's label."""
        return self.name or self.method.label

    def build(self, n_components: int, random_state: int | None = None, **defaults: Any) -> Any:
        """A fresh estimator: the spec's options over ``defaults`` (a study's own, e.g. the setting's temperature)."""
        return self.method.build(n_components, random_state, **{**defaults, **self.options})


@functools.lru_cache(maxsize=None)
def _option_model(name: str) -> type[BaseModel]:
    """A pydantic model of a method's constructor options (every one optional), from its signature's type hints."""
    import typing

    from contrastive_gmm.methods import get_method

    cls = get_method(name).estimator_class()
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an estimator from elsewhere with hints we cannot resolve: check the names only
        hints = {}
    fields = {p: (Optional[hints.get(p, Any)], None) for p in get_method(name).parameters()}
    with warnings.catch_warnings():
        # An option named like a BaseModel method (PCA's `copy`) is fine here: the model only validates.
        warnings.filterwarnings("ignore", "Field name", UserWarning)
        return create_model(f"{cls.__name__}Options", __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True), **fields)


def _overlay(base: Any, over: Any) -> Any:
    """Merge ``over`` into ``base``: tables by key, lists of tables by position, the rest replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _overlay(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(over, list) and over and all(isinstance(v, dict) for v in over):
        if all(isinstance(v, dict) for v in base):
            merged = [_overlay(b, o) for b, o in zip(base, over)]
            return merged + copy.deepcopy(over[len(base) :]) + base[len(over) :]
    return copy.deepcopy(over)


def describe_error(exc: ValidationError, prefix: str = "") -> str:
    """The first problem of a pydantic error as ``prefix.field: message (got value)``, on one line."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    if err["type"] not in ("missing", "extra_forbidden") and not err["type"].startswith("value_error"):
        if isinstance(value, (int, float, str, bool)):
            msg += f" (got {value!r})"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc}: {msg}{more}" if loc else f"{msg}{more}"


def validate_params(model: type[BaseModel], params: dict[str, Any], where: str) -> Any:
    """``model`` validated from ``params``; a pydantic error becomes one ValueError line that starts with ``where``."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise ValueError(describe_error(exc, where)) from None


def named_settings(settings: list[dict[str, Any]]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """Each entry of a spec's ``settings`` as ``(index, name, its other fields)``; a missing name names the entry."""
    for i, named in enumerate(settings):
        fields = dict(named)
        name = fields.pop("name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"settings.{i}.name: every named setting needs a `name`")
        yield i, name, fields


def parse_study(raw: dict[str, Any], source: str = "<spec>", quick: bool = False) -> StudySpec:
    """Validate a spec given as a dict (as read from TOML); ``quick`` applies its ``[quick]`` overlay.

    Raises :class:`ConfigError` with one line naming ``source`` and the field.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a study spec must be a table of fields; got {type(raw).__name__}")
    raw = dict(raw)
    overlay = raw.pop("quick", {})
    if not isinstance(overlay, dict):
        raise ConfigError(f"{source}: quick: must be a table of overrides; got {overlay!r}")
    if quick:
        raw = _overlay(raw, overlay)
    kind = raw.get("kind")
    if kind is None:
        raise ConfigError(f"{source}: kind: missing; one of {known_kinds()}")
    try:
        model = get_kind(str(kind)).spec
    except KeyError:
        raise ConfigError(f"{source}: kind: unknown study kind {kind!r}; one of {known_kinds()}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_error(exc)}") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; unreadable files and syntax errors become one-line :class:`ConfigError`."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def load_study(path: str | Path, quick: bool = False) -> StudySpec:
    """Read and validate one spec file (see :func:`parse_study`)."""
    return parse_study(read_toml(path), source=Path(path).name, quick=quick)


def builtin_study_files() -> dict[str, Path]:
    """The specs shipped with the package, by study name, in their files' order."""
    folder = resources.files("contrastive_gmm.experiments") / "studies"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    out: dict[str, Path] = {}
    for f in files:
        name = read_toml(Path(str(f))).get("name", f.name)
        out[str(name)] = Path(str(f))
    return out


def load_builtin(only: list[str] | None = None, quick: bool = False) -> list[StudySpec]:
    """Validate the shipped specs (all, or those named in ``only``) before any work."""
    files = builtin_study_files()
    names = list(files) if not only else list(dict.fromkeys(only))
    unknown = [n for n in names if n not in files]
    if unknown:
        raise ConfigError(f"--only: unknown study {unknown[0]!r}; the studies are {list(files)}")
    return [load_study(files[n], quick=quick) for n in names]


__all__ = [
    "ConfigError",
    "StudySpec",
    "MethodSpec",
    "describe_error",
    "validate_params",
    "named_settings",
    "parse_study",
    "read_toml",
    "load_study",
    "builtin_study_files",
    "load_builtin",
]
