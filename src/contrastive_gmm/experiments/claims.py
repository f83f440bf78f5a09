"""Claims and their checks, with their evaluation: what a sentence of the report asserts and how it is computed.

A spec's ``[[claims]]`` are :class:`Claim` objects; each holds :class:`Check` objects (``close``,
``above``, ``below``, ``trend``, ``flat``, ``beats``) whose meaning is defined once, here: the
fields a check exposes to its sentence (:data:`CHECK_FIELDS`), how it selects settings, how it is
computed from the per-setting means (:func:`evaluate_check`), how its numbers are rounded when
quoted (:func:`format_number`), and the table printed beside the sentence (:func:`claims_table`).
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from contrastive_gmm.experiments.engine import StudySetting

if TYPE_CHECKING:
    from contrastive_gmm.experiments.spec import StudySpec


#: Values each kind of check exposes to its claim's sentence, as ``{name.field}``. Every check also
#: exposes :data:`COMMON_FIELDS` and ``{name.params.<field>}``: a setting parameter (``n_pairs``,
#: ``k``, ...) that has one value across the check's settings, so a sentence never hard-codes one.
CHECK_FIELDS: dict[str, tuple[str, ...]] = {
    "close": ("method", "reference", "metric", "worst_ratio", "worst_diff", "worst_setting", "worst_diff_setting",
              "n_settings", "factor", "slack"),
    "above": ("method", "metric", "min", "max", "min_setting", "max_setting", "threshold", "n_settings"),
    "below": ("method", "metric", "min", "max", "min_setting", "max_setting", "threshold", "n_settings"),
    "trend": ("method", "metric", "first", "last", "ratio", "slope", "x_first", "x_last", "factor"),
    "flat": ("method", "metric", "min", "max", "spread", "slack", "n_settings"),
    "beats": ("method", "reference", "metric", "min_gain", "max_gain", "worst_setting", "margin", "n_settings"),
}


#: Fields every check exposes: where it looked (``at``: "τ = 1 and 10", or the settings' names),
#: the smallest and largest x it looked at, and the number of replicates behind each mean.
COMMON_FIELDS: tuple[str, ...] = ("at", "x_lo", "x_hi", "n_seeds")


#: The bound a reference must meet for a setting to count in a ``close`` check, where ``fail`` is unset:
#: an angle metric's reference beyond 45 degrees has failed too, so that setting says nothing.
DEFAULT_FAIL_ANGLE = 45.0


_TEXT_FIELDS = {"method", "reference", "metric", "worst_setting", "worst_diff_setting", "min_setting", "max_setting", "at"}


class Check(BaseModel):
    """One measurable part of a claim, computed from the per-setting means over seeds.

    - ``close``: ``method <= max(factor * reference, reference + slack)`` on every selected setting
      (for a metric where ``better = "higher"``: ``method >= min(reference / factor, reference - slack)``).
    - ``above`` / ``below``: ``method`` is above / below ``threshold`` on every selected setting.
    - ``trend``: from the first to the last selected setting (one panel, by x), ``method`` grows
      (``increasing``) or shrinks (``decreasing``) by at least ``factor`` (default 1: any change).
    - ``flat``: ``max - min`` of ``method`` over the selected settings is at most ``slack``.
    - ``beats``: ``method`` is better than ``reference`` by at least ``margin`` on every selected
      setting (``method - reference >= margin`` where ``better = "higher"``; the gain is
      ``reference - method`` where lower is better).

    ``panel``, ``settings``, ``x_min`` and ``x_max`` select settings (all of them by default).
    ``fail`` (``close`` only): a setting where the reference itself is worse than this (above it
    where lower is better) is set aside and named in the sentence, since there every method failed;
    it defaults to 45 degrees for angle metrics where lower is better, and to none otherwise.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    check: Literal["close", "above", "below", "trend", "flat", "beats"]
    as_: Optional[str] = Field(None, alias="as", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    method: str
    metric: str = "max_angle"
    reference: Optional[str] = None
    better: Literal["lower", "higher"] = "lower"
    factor: Optional[float] = Field(None, gt=0)
    slack: float = Field(2.0, ge=0)
    margin: float = 0.0
    threshold: Optional[float] = None
    fail: Optional[float] = None
    direction: Optional[Literal["increasing", "decreasing"]] = None
    panel: Optional[str] = None
    settings: Optional[list[str]] = None
    x_min: Optional[float] = None
    x_max: Optional[float] = None

    @model_validator(mode="after")
    def _needs(self) -> "Check":
        if self.check in ("close", "beats") and self.reference is None:
            raise ValueError(f"a '{self.check}' check needs a reference method")
        if self.check in ("above", "below") and self.threshold is None:
            raise ValueError(f"an '{self.check}' check needs a threshold")
        if self.check == "trend" and self.direction is None:
            raise ValueError("a 'trend' check needs direction = 'increasing' or 'decreasing'")
        return self

    @property
    def label(self) -> str:
        """The name the claim's sentence uses for this check's values."""
        return self.as_ or self.check

    @property
    def fail_bound(self) -> float | None:
        """The reference value beyond which a ``close`` setting is set aside (see ``fail``)."""
        if self.check != "close":
            return None
        if self.fail is not None:
            return self.fail
        return DEFAULT_FAIL_ANGLE if self.better == "lower" and self.metric.endswith("angle") else None


class _AnyParam:
    """Stand-in for ``{check.params.<name>}`` when a template is validated: any name, a number."""

    def __getattr__(self, name: str) -> float:
        return 1.0


class Claim(BaseModel):
    """A one-sentence claim with the checks that support or contradict it.

    ``text`` is a template filled from the checks' values, e.g.
    ``"InfoNCE is within {close.worst_ratio:.2f}x of LDA"``; ``methods`` picks the columns of the
    claim's table (all the study's methods by default).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    checks: list[Check] = Field(min_length=1)
    methods: Optional[list[str]] = None

    @model_validator(mode="after")
    def _placeholders(self) -> "Claim":
        labels = [c.label for c in self.checks]
        if len(set(labels)) != len(labels):
            raise ValueError(f"checks need distinct names (set `as` on each); got {labels}")
        fields = {c.label: CHECK_FIELDS[c.check] + COMMON_FIELDS for c in self.checks}
        try:
            parsed = list(string.Formatter().parse(self.text))
        except ValueError as exc:
            raise ValueError(f"text is not a valid template: {exc}") from None
        for _, name, _, _ in parsed:
            if name is None:
                continue
            head, _, attr = name.partition(".")
            if head in fields and attr.startswith("params.") and len(attr) > len("params."):
                continue
            if head not in fields or attr not in fields[head]:
                options = ", ".join(f"{{{k}.{f}}}" for k, fs in fields.items() for f in fs[:4])
                raise ValueError(f"text uses unknown placeholder {{{name}}}; use e.g. {options}, ...")
        # Fill the template with stand-ins of the right types, so a bad format spec fails now, not after the runs.
        stand_ins = {
            label: SimpleNamespace(params=_AnyParam(), **{f: ("x" if f in _TEXT_FIELDS else 1.0) for f in fs})
            for label, fs in fields.items()
        }
        try:
            self.text.format(**stand_ins)
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise ValueError(f"text cannot be filled in: {exc}") from None
        return self


_FORMATS = {"nmi": "{:.3f}", "ari": "{:.3f}", "accuracy": "{:.3f}", "effective_rank": "{:.1f}", "collapsed": "{:.1f}",
            "energy_outside": "{:.2%}", "min_singular_ratio": "{:.3f}"}


# Scores a claim quotes to three digits are printed to three in the tables too (nmi_view1, probe_accuracy, ...).
_FORMATS.update({m: "{:.3f}" for m in ("probe_accuracy", "nmi_view1", "nmi_view2", "ari_view1", "ari_view2",
                                      "accuracy_view1", "accuracy_view2", "probe_accuracy_view1", "probe_accuracy_view2",
                                      "bayes_accuracy")})


_SPEC = re.compile(r"^(?P<sign>[+\- ]?)(?:\.(?P<prec>\d+))?(?P<type>[f%])$")


def format_number(value: float, spec: str, rounding: str = "nearest") -> str:
    """``format(value, spec)``, but never a zero for a non-zero value, and rounded in a stated direction.

    ``rounding`` is ``"down"`` for a quoted lower bound ("89.7° or more" must not say 90),
    ``"up"`` for an upper bound ("within 0.004"), else to nearest. Where ``spec``'s digits would
    show a non-zero value as zero, more digits are shown (up to six), then scientific notation.

    >>> format_number(89.98, ".0f", "down"), format_number(0.0042, ".2f"), format_number(0.0087, ".2%")
    ('89', '0.004', '0.87%')
    >>> format_number(-0.0004, "+.3f", "up"), format_number(3e-9, ".2f")
    ('-0.0004', '3.0e-09')
    """
    m = _SPEC.match(spec)
    if not spec:
        return f"{value:g}"  # a bare placeholder: 9, not 9.0
    if m is None or not math.isfinite(value):
        return format(value, spec)
    sign, percent = m["sign"], m["type"] == "%"
    shown = value * 100 if percent else value
    prec = int(m["prec"]) if m["prec"] is not None else 6
    for p in range(prec, 7):
        # Digits are chosen by nearest rounding, so 0.0042 becomes 0.004 first and only then a bound (0.005).
        if value != 0 and not any(c in "123456789" for c in f"{shown:.{p}f}"):
            continue
        scaled = shown * 10**p
        # The small tolerance keeps a value that is already round (0.25 at two digits) from moving a step.
        q = math.floor(scaled + 1e-9) if rounding == "down" else math.ceil(scaled - 1e-9) if rounding == "up" else round(scaled)
        return f"{q / 10**p:{sign}.{p}f}" + ("%" if percent else "")
    return f"{shown:{sign}.1e}" + ("%" if percent else "")


#: How each quoted field is rounded: a minimum is a lower bound, a maximum or a worst case an upper one.
_ROUNDING = {"min": "down", "min_gain": "down", "max": "up", "max_gain": "up", "worst_ratio": "up",
             "worst_diff": "up", "spread": "up", "x_lo": "nearest", "x_hi": "nearest"}


class Quoted(float):
    """A check's number as a claim's sentence prints it (see :func:`format_number`)."""

    rounding = "nearest"

    def __new__(cls, value: float, rounding: str = "nearest") -> "Quoted":
        out = super().__new__(cls, value)
        out.rounding = rounding
        return out

    def __format__(self, spec: str) -> str:
        return format_number(float(self), spec, self.rounding)


def setting_stats(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[float, float, int]]:
    """Mean, sample sd and count over seeds, keyed by (setting, method, metric)."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["setting"], r["method"], r["metric"]), []).append(float(r["value"]))
    out = {}
    for key, values in groups.items():
        arr = np.asarray(values)
        out[key] = (float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0, int(arr.size))
    return out


def select_settings(check: Check, settings: Sequence[StudySetting]) -> list[StudySetting]:
    """The settings a check looks at, in display order."""
    out = []
    for s in settings:
        if check.panel is not None and s.panel != check.panel:
            continue
        if check.settings is not None and s.label not in check.settings:
            continue
        if check.x_min is not None or check.x_max is not None:
            if isinstance(s.x, str):
                continue
            if check.x_min is not None and s.x < check.x_min or check.x_max is not None and s.x > check.x_max:
                continue
        out.append(s)
    return out


def _join(words: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1] if words else "no setting"


def describe_where(
    chosen: Sequence[StudySetting], x_name: Callable[[str], str] = str, n_all: int | None = None
) -> str:
    """Where a check looked, in words: "τ = 1 and 10", "n from 1000 to 64000 (5 values)", or the names.

    >>> pts = [StudySetting(f"n_pairs={n}", "n_pairs", float(n)) for n in (1000, 4000)]
    >>> describe_where(pts, {"n_pairs": "n"}.get), describe_where(pts[:1], {"n_pairs": "n"}.get)
    ('n = 1000 and 4000', 'n = 1000')
    """
    panels = list(dict.fromkeys(s.panel for s in chosen))
    if n_all is not None and len(chosen) == n_all and n_all > 3:
        return f"all {n_all} settings"
    if len(panels) == 1 and chosen and not any(isinstance(s.x, str) for s in chosen):
        xs = sorted({float(s.x) for s in chosen})
        name = x_name(panels[0]) or panels[0]
        if len(xs) > 3:
            return f"{name} from {xs[0]:g} to {xs[-1]:g} ({len(xs)} values)"
        return f"{name} = {_join([f'{x:g}' for x in xs])}"
    return _join([s.label for s in chosen])


def _common_params(chosen: Sequence[StudySetting]) -> SimpleNamespace:
    """The setting parameters with one value across ``chosen`` (``{check.params.n_pairs}``)."""
    if not chosen:
        return SimpleNamespace()
    common = {}
    for key, value in chosen[0].params.items():
        if all(s.params.get(key) == value for s in chosen[1:]):
            common[key] = Quoted(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    return SimpleNamespace(**common)


@dataclass
class CheckResult:
    """A check's values (the claim's placeholders), its verdict, the settings it used and those it set aside.

    ``set_aside`` holds ``(setting, reference value)`` for each setting of a ``close`` check where
    the reference itself failed (see :attr:`Check.fail_bound`): such a setting supports nothing.
    """

    check: Check
    values: dict[str, Any]
    holds: bool
    settings: list[StudySetting]
    set_aside: list[tuple[StudySetting, float]] = field(default_factory=list)

    def namespace(self) -> SimpleNamespace:
        """The values as the sentence prints them: numbers rounded as ``_ROUNDING`` says."""
        shown = {k: Quoted(v, _ROUNDING.get(k, "nearest")) if isinstance(v, float) else v for k, v in self.values.items()}
        return SimpleNamespace(**shown)


def evaluate_check(
    check: Check,
    settings: Sequence[StudySetting],
    stats: dict,
    x_name: Callable[[str], str] = str,
) -> CheckResult:
    """Compute a check from per-setting means (see :class:`Check`).

    ``x_name`` names a panel's x in the ``at`` field ("n", "τ").
    """
    chosen = select_settings(check, settings)
    mean = lambda s, m: stats.get((s.label, m, check.metric), (math.nan,))[0]  # noqa: E731
    set_aside: list[tuple[StudySetting, float]] = []
    bound = check.fail_bound
    if bound is not None:
        worse = (lambda r: r > bound) if check.better == "lower" else (lambda r: r < bound)
        set_aside = [(s, mean(s, check.reference)) for s in chosen if worse(mean(s, check.reference))]
        chosen = [s for s in chosen if not worse(mean(s, check.reference))]
    nan = math.nan
    counts = [stats.get((s.label, check.method, check.metric), (0, 0, 0))[2] for s in chosen]
    xs = [float(s.x) for s in chosen if not isinstance(s.x, str)]
    values: dict[str, Any] = {
        "method": check.method, "metric": check.metric, "n_settings": len(chosen),
        "at": describe_where(chosen, x_name, n_all=len(settings) if not set_aside else None),
        "x_lo": min(xs) if xs else nan, "x_hi": max(xs) if xs else nan,
        "n_seeds": min(counts) if counts else 0, "params": _common_params(chosen),
    }
    ms = [mean(s, check.method) for s in chosen]
    usable = bool(chosen) and all(np.isfinite(ms))
    holds = False
    if check.check == "close":
        refs = [mean(s, check.reference) for s in chosen]
        factor = check.factor or 1.5
        usable = usable and all(np.isfinite(refs))
        if check.better == "lower":
            ratios = [m / r if r else math.inf for m, r in zip(ms, refs)]
            diffs = [m - r for m, r in zip(ms, refs)]
            oks = [m <= max(factor * r, r + check.slack) for m, r in zip(ms, refs)]
        else:
            ratios = [r / m if m else math.inf for m, r in zip(ms, refs)]
            diffs = [r - m for m, r in zip(ms, refs)]
            oks = [m >= min(r / factor, r - check.slack) for m, r in zip(ms, refs)]
        worst = int(np.argmax(ratios)) if usable else None
        widest = int(np.argmax(diffs)) if usable else None
        values.update(
            reference=check.reference,
            factor=factor,
            slack=check.slack,
            worst_ratio=ratios[worst] if usable else nan,
            worst_diff=diffs[widest] if usable else nan,
            worst_setting=chosen[worst].label if usable else "-",
            worst_diff_setting=chosen[widest].label if usable else "-",
        )
        holds = usable and all(oks)
    elif check.check in ("above", "below"):
        lo, hi = (int(np.argmin(ms)), int(np.argmax(ms))) if usable else (None, None)
        values.update(
            threshold=check.threshold,
            min=ms[lo] if usable else nan,
            max=ms[hi] if usable else nan,
            min_setting=chosen[lo].label if usable else "-",
            max_setting=chosen[hi].label if usable else "-",
        )
        if usable:
            holds = all(m > check.threshold for m in ms) if check.check == "above" else all(m < check.threshold for m in ms)
    elif check.check == "trend":
        numeric = sorted(((float(s.x), m) for s, m in zip(chosen, ms) if not isinstance(s.x, str)), key=lambda t: t[0])
        usable = usable and len(numeric) >= 2
        factor = check.factor or 1.0
        if usable:
            xs_, ys = np.array([t[0] for t in numeric]), np.array([t[1] for t in numeric])
            first, last = float(ys[0]), float(ys[-1])
            slope = float(np.polyfit(np.log(xs_), np.log(ys), 1)[0]) if (xs_ > 0).all() and (ys > 0).all() else nan
            holds = last > factor * first if check.direction == "increasing" else first > factor * last
            values.update(first=first, last=last, ratio=last / first if first else nan, slope=slope,
                          x_first=float(xs_[0]), x_last=float(xs_[-1]), factor=factor)
        else:
            values.update(first=nan, last=nan, ratio=nan, slope=nan, x_first=nan, x_last=nan, factor=factor)
    elif check.check == "beats":
        refs = [mean(s, check.reference) for s in chosen]
        usable = usable and all(np.isfinite(refs))
        sign = 1.0 if check.better == "higher" else -1.0
        gains = [sign * (m - r) for m, r in zip(ms, refs)]
        worst = int(np.argmin(gains)) if usable else None
        values.update(
            reference=check.reference,
            margin=check.margin,
            min_gain=gains[worst] if usable else nan,
            max_gain=max(gains) if usable else nan,
            worst_setting=chosen[worst].label if usable else "-",
        )
        holds = usable and all(g >= check.margin for g in gains)
    elif check.check == "flat":
        values.update(slack=check.slack, min=min(ms) if usable else nan, max=max(ms) if usable else nan)
        values["spread"] = values["max"] - values["min"]
        holds = usable and values["spread"] <= check.slack
    return CheckResult(check, values, bool(holds), chosen, set_aside)


def set_aside_note(result: CheckResult, x_name: Callable[[str], str] = str) -> str:
    """A sentence naming the settings a ``close`` check set aside because its reference failed there too."""
    if not result.set_aside:
        return ""
    c = result.check
    where = describe_where([s for s, _ in result.set_aside], x_name)
    fmt = "{:.1f}" if c.metric.endswith("angle") else "{:.3f}"
    vals = _join([format_number(v, fmt[2:-1]) for _, v in result.set_aside])
    side = "above" if c.better == "lower" else "below"
    return (f"Not counted: {where}, where {c.reference} itself fails ({c.metric} {vals}, {side} "
            f"{c.fail_bound:g}), so no method succeeds there.")


def format_cell(stat: tuple[float, float, int] | None, metric: str) -> str:
    """A table cell: mean ± sd over seeds in the metric's format, never a zero for a non-zero mean."""
    if stat is None:
        return ""  # the method has no such metric here
    spec = _FORMATS.get(metric, "{:.1f}" if "angle" in metric else "{:.2f}")[2:-1]
    mean, sd, n = stat
    # No spaces around ±: the tables are most of the report's size.
    m = _SPEC.match(spec)
    decimals = int(m["prec"]) if m and m["prec"] else 2
    if m and m["type"] == "%":  # 0.74±0.12%: mean and sd in the same unit
        return format_number(mean, spec).removesuffix("%") + (f"±{_spread(100 * sd, decimals)}" if n > 1 else "") + "%"
    return format_number(mean, spec) + (f"±{_spread(sd, decimals)}" if n > 1 else "")


def _spread(sd: float, decimals: int = 2) -> str:
    """An sd to one significant digit (two when it starts with 1), no finer than one digit past the mean's: 30, 0.6, 0.12, 0."""
    if not math.isfinite(sd) or sd == 0:
        return f"{sd:g}"
    # One significant digit, two where it would be a 1 (the usual rule for an uncertainty).
    lead = abs(sd) / 10 ** math.floor(math.log10(abs(sd)))
    digits = min(max(0, (1 if lead < 2 else 0) - math.floor(math.log10(abs(sd)))), decimals + 1)
    text = f"{sd:.{digits}f}"
    return "0" if not any(c in "123456789" for c in text) else text


def claims_table(
    stats: dict,
    rows_for: Sequence[tuple[str, Sequence[StudySetting]]],
    methods: Sequence[str],
    only: dict[str, set[str]] | None = None,
) -> str:
    """One table for a study's claims: a block of lines per metric (its name on the first), a column per method.

    ``only`` (metric -> methods) limits a metric's cells to those methods; the others stay blank.
    """
    keep = lambda m, metric: only is None or metric not in only or m in only[metric]  # noqa: E731
    shown = [m for m in methods if any((s.label, m, metric) in stats and keep(m, metric) for metric, ss in rows_for for s in ss)]
    lines = ["| metric | setting | " + " | ".join(shown) + " |", "|---" * (len(shown) + 2) + "|"]
    for metric, ss in rows_for:
        for i, s in enumerate(ss):
            cells = [format_cell(stats.get((s.label, m, metric)), metric) if keep(m, metric) else "" for m in shown]
            lines.append(f"| {metric if i == 0 else ''} | {s.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _claim_methods(claims: Sequence["ClaimResult"]) -> dict[str, set[str]]:
    """The methods the claims quote on each metric: their checks' methods and references, and their listed columns."""
    out: dict[str, set[str]] = {}
    for c in claims:
        for r in c.checks:
            out.setdefault(r.check.metric, set()).update(n for n in (r.check.method, r.check.reference, *(c.claim.methods or ())) if n)
    return out


@dataclass
class ClaimResult:
    """A claim's filled-in sentence, verdict and checks; ``tables`` is the claim's own table (Markdown)."""

    study: str
    claim: Claim
    sentence: str
    holds: bool
    checks: list[CheckResult]
    tables: str


def evaluate_claims(spec: StudySpec, rows: Sequence[dict[str, Any]]) -> list[ClaimResult]:
    """Every claim of ``spec``, checked against the study's rows.

    The sentence is the claim's template filled from its checks, followed by a note for every
    setting a check set aside because its reference failed there as well.
    """
    settings = spec.expand()
    stats = setting_stats(rows)
    all_methods = list(dict.fromkeys(r["method"] for r in rows))
    out = []
    for claim in spec.claims:
        results = [evaluate_check(c, settings, stats, spec.x_name) for c in claim.checks]
        sentence = claim.text.format(**{r.check.label: r.namespace() for r in results})
        notes = list(dict.fromkeys(n for n in (set_aside_note(r, spec.x_name) for r in results) if n))
        sentence = " ".join([sentence, *notes])
        chosen = {s.label for r in results for s in (*r.settings, *(a for a, _ in r.set_aside))}
        shown = [s for s in settings if s.label in chosen]
        methods = claim.methods or all_methods
        metrics = list(dict.fromkeys(c.metric for c in claim.checks))
        tables = claims_table(stats, [(m, shown) for m in metrics], methods)
        out.append(ClaimResult(spec.name, claim, sentence, all(r.holds for r in results), results, tables))
    return out


__all__ = [
    "CHECK_FIELDS",
    "COMMON_FIELDS",
    "DEFAULT_FAIL_ANGLE",
    "Check",
    "Claim",
    "format_number",
    "Quoted",
    "setting_stats",
    "select_settings",
    "describe_where",
    "CheckResult",
    "evaluate_check",
    "set_aside_note",
    "format_cell",
    "claims_table",
    "ClaimResult",
    "evaluate_claims",
]
