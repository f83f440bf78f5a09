"""From long-format results to what a person reads: results.csv, one figure per study, report.md.

Every claim's sentence is filled from the results (see :class:`~contrastive_gmm.experiments.spec.Check`)
and printed with the table of per-setting means that supports or contradicts it. The output
folder also keeps ``studies.json`` (the resolved specs) and ``manifest.json`` (how the run was
made), so :func:`render_report` can rebuild the figures and the report from the folder alone.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import re
import tempfile
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Sequence

import numpy as np

from contrastive_gmm.experiments.engine import RESULT_COLUMNS, StudySetting, get_kind
from contrastive_gmm.experiments.spec import Check, Claim, StudySpec, parse_study
from contrastive_gmm.methods import PALETTE, find_method

_VERSIONED = ("contrastive-gmm", "numpy", "scipy", "scikit-learn", "torch", "matplotlib", "pydantic", "joblib", "dask", "distributed")
_FORMATS = {"nmi": "{:.3f}", "ari": "{:.3f}", "accuracy": "{:.3f}", "effective_rank": "{:.1f}", "collapsed": "{:.1f}",
            "energy_outside": "{:.2%}", "min_singular_ratio": "{:.3f}"}
# Scores a claim quotes to three digits are printed to three in the tables too (nmi_view1, probe_accuracy, ...).
_FORMATS.update({m: "{:.3f}" for m in ("probe_accuracy", "nmi_view1", "nmi_view2", "ari_view1", "ari_view2",
                                      "accuracy_view1", "accuracy_view2", "probe_accuracy_view1", "probe_accuracy_view2")})
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


# ---------------------------------------------------------------------------- files


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results_csv(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write long-format rows (:data:`~contrastive_gmm.experiments.engine.RESULT_COLUMNS`) atomically; floats round-trip exactly."""
    path = Path(path)
    lines: list[str] = []

    class _Sink:
        def write(self, s: str) -> None:
            lines.append(s)

    writer = csv.DictWriter(_Sink(), fieldnames=list(RESULT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: r[k] for k in RESULT_COLUMNS} for r in rows)
    _write_atomic(path, "".join(lines))
    return path


def _number_or_text(s: str) -> float | str:
    try:
        return float(s)
    except ValueError:
        return s


def read_results_csv(path: str | Path) -> list[dict[str, Any]]:
    """Read a results.csv written by :func:`write_results_csv` (numbers as floats, seed as int)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; run `cgmm reproduce --out {path.parent}` first")
    rows = []
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(RESULT_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path} is not a cgmm results file: it lacks the columns {sorted(missing)}")
        for r in reader:
            r["x"] = _number_or_text(r["x"])
            r["seed"] = int(r["seed"])
            for k in ("value", "fit_seconds", "run_seconds"):
                r[k] = float(r[k])
            rows.append(r)
    return rows


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages the numbers depend on."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------------------- claims


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
    """Compute a check from per-setting means (see :class:`~contrastive_gmm.experiments.spec.Check`).

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


def markdown_table(
    stats: dict, settings: Sequence[StudySetting], methods: Sequence[str], metric: str, first_header: str = "setting",
    sd: bool = True,
) -> str:
    """One line per setting, one column per method: mean ± sd over seeds of ``metric`` (the mean alone without ``sd``)."""
    lines = [f"| {first_header} | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for s in settings:
        stat = lambda m: stats.get((s.label, m, metric)) if sd else (stats[(s.label, m, metric)][0], 0.0, 1) if (s.label, m, metric) in stats else None  # noqa: E731
        cells = [format_cell(stat(m), metric) for m in methods]
        lines.append(f"| {s.label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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


def collapse_notes(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per (setting, method) whose map collapsed in some seed (metric ``collapsed`` > 0)."""
    seen: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r["metric"] == "collapsed":
            seen.setdefault((r["setting"], r["method"]), []).append(float(r["value"]))
    notes = []
    for (setting, method), values in seen.items():
        bad = [v for v in values if v > 0]
        if bad:
            notes.append(
                f"{method} at {setting}: {len(bad)} of {len(values)} seeds lost "
                f"{max(bad):.0f} direction{'s' if max(bad) > 1 else ''}"
            )
    return notes


# ---------------------------------------------------------------------------- figures

# Okabe-Ito, the colour-blind-safe palette; one colour per method in every study, by the method's role.
_P = PALETTE
#: Styles of the study variants that are not registered methods (a registered method's label
#: takes its style from :mod:`contrastive_gmm.methods`, the same in every study).
VARIANT_STYLES: dict[str, tuple[str, str, str]] = {
    "InfoNCE cosine": (_P["vermillion"], "-", "o"),
    "InfoNCE dot (default)": (_P["orange"], "-", "v"),
    "InfoNCE cosine, unconstrained": (_P["sky"], "-.", "P"),
    "InfoNCE dot, unconstrained": (_P["black"], "-.", "X"),
    "PCA per modality": (_P["grey"], "-", "x"),
    "SimSiam, cosine, no predictor": (_P["black"], "-", "X"),
    "raw features": (_P["black"], "-", "X"),
    "CLIP (same class)": (_P["vermillion"], "-", "o"),
    "CLIP (same object)": (_P["orange"], "-", "v"),
    "PCA (per view)": (_P["grey"], "-", "x"),
    "LDA (per view, labels)": (_P["green"], ":", "^"),
}
_SPARE = tuple(PALETTE.values())
_UNIT_METRICS = ("nmi", "ari", "accuracy", "probe_accuracy")


def method_styles(methods: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    """(colour, line style, marker) per method: a registered method's own, a variant's, a spare colour for the rest."""
    def known(m: str) -> tuple[str, str, str] | None:
        found = find_method(m)
        return found.style if found is not None else VARIANT_STYLES.get(m)

    taken = {known(m)[0] for m in methods if known(m) is not None}
    free = [c for c in _SPARE if c not in taken] or list(_SPARE)
    out, i = {}, 0
    for m in methods:
        style = known(m)
        if style is None:
            style, i = (free[i % len(free)], "-", "o"), i + 1
        out[m] = style
    return out


def method_colours(methods: Sequence[str]) -> dict[str, str]:
    """A stable colour per method (see :func:`method_styles`)."""
    return {m: st[0] for m, st in method_styles(methods).items()}


def _is_angle(metric: str) -> bool:
    return "angle" in metric


def _bar_axes(fig: Any, cell: Any, tops: list[float], angle: bool) -> Any:
    """The axis of a bar panel; ``tops`` are the bars' heights plus their error bars.

    An angle panel is log scale, as in the line plots: 6 against 7 degrees stays readable next
    to PCA's 89.9, with no broken axis whose two halves would need two y labels. The top leaves
    room for the value written above each error bar.
    """
    ax = fig.add_subplot(cell)
    finite = [v for v in tops if np.isfinite(v)]
    if angle and finite and min(finite) > 0:
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
        ax.set_yscale("log")
        lo, hi = min(finite) / 2, max(finite) * 2.2
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_locator(FixedLocator([t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 45, 90) if lo <= t <= hi]))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
    elif angle:
        ax.set_ylim(0, 92.0)
    else:
        # Room above the tallest error bar for its value; fractions stay on a 0-based axis.
        ax.set_ylim(0, max(finite, default=1.0) * 1.25 or 1.0)
    return ax


def _dodge(x: np.ndarray, index: int, count: int, span: tuple[float, float], log: bool) -> np.ndarray:
    """``x`` shifted sideways by a small step per method, so lines that coincide (NMI 1.0) stay visible."""
    step = 0.014 * (index - (count - 1) / 2)
    if log:
        return x * (span[1] / span[0]) ** step
    return x + step * (span[1] - span[0])


def plot_panels(
    settings: Sequence[StudySetting],
    rows: Sequence[dict[str, Any]],
    path: str | Path,
    *,
    title: str,
    metrics: Sequence[str],
    metric_labels: dict[str, str] | None = None,
    panel_titles: dict[str, str] | None = None,
    log_panels: Sequence[str] = (),
    x_labels: dict[str, str] | None = None,
    panel_metric_labels: dict[tuple[str, str], str] | None = None,
    decorate: Callable[[Any, str, str, dict], None] | None = None,
) -> None:
    """Write one PNG: a row per metric, a column per panel; mean over seeds with ±1 sd error bars.

    ``panel_titles`` name the panels (their column titles and, unless ``x_labels`` says
    otherwise, their x axes); ``panel_metric_labels`` override a y label for one (panel, metric);
    ``decorate(ax, panel, metric, stats)`` adds a study's own marks (a reference slope, a default).

    A panel of numeric x values is a line plot per method (log-scale x for ``log_panels``, ticks
    at the values that ran); a panel of named settings (string x) is a grouped bar chart with
    every bar's value written above its error bar (one setting: a bar per method, named on the x
    axis). Line markers are dodged sideways a little per method so coinciding lines stay visible.
    Angle metrics are degrees, on a log scale. Scores in [0, 1]
    are zoomed to the range the data use. Colours and markers are fixed per method
    (:mod:`contrastive_gmm.methods`), the same in every study.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    metric_labels, panel_titles = metric_labels or {}, panel_titles or {}
    panel_metric_labels = panel_metric_labels or {}
    panels = list(dict.fromkeys(s.panel for s in settings))
    present = {r["metric"] for r in rows}
    metrics = [m for m in metrics if m in present]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    styles = method_styles(methods)
    n_seeds = len({r["seed"] for r in rows})
    stats = setting_stats(rows)
    width = max(7.0, 4.6 * len(panels))
    fig = Figure(figsize=(width, 2.9 * len(metrics) + 1.2), layout="constrained")
    grid = fig.add_gridspec(max(len(metrics), 1), len(panels))
    # Line and bar panels side by side have different y ranges: each then needs its own y label.
    mixed = len({all(isinstance(s.x, str) for s in settings if s.panel == p) for p in panels}) > 1
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for i, metric in enumerate(metrics):
        angle = _is_angle(metric)
        for j, panel in enumerate(panels):
            points = [s for s in settings if s.panel == panel]
            # Only the methods this panel has (a study may run different methods in different panels).
            shown = [m for m in methods if any((p.label, m, metric) in stats for p in points)]
            values = [stats[(p.label, m, metric)][0] for p in points for m in shown if (p.label, m, metric) in stats]
            if all(isinstance(p.x, str) for p in points):
                fmt = _FORMATS.get(metric, "{:.1f}" if angle else "{:.2f}")[2:-1]
                tops = [sum(stats[(p.label, m, metric)][:2]) for p in points for m in shown if (p.label, m, metric) in stats]
                ax = _bar_axes(fig, grid[i, j], tops, angle)
                axes = [ax]
                # One setting: the methods are the categories, named on the axis rather than in the legend.
                single = len(points) == 1
                bar = 0.7 if single else 0.8 / max(len(shown), 1)
                xs = np.arange(len(shown) if single else len(points))
                log = ax.get_yscale() == "log"
                for m_i, m in enumerate(shown):
                    cells = [stats[(p.label, m, metric)][:2] if (p.label, m, metric) in stats else (np.nan, 0.0) for p in points]
                    pos = xs[m_i:m_i + 1] if single else xs + (m_i - (len(shown) - 1) / 2) * bar
                    ax.bar(pos, [c[0] for c in cells], bar, yerr=[c[1] for c in cells], capsize=2,
                           color=styles[m][0], edgecolor="k", linewidth=0.4, label=f"_{m}" if single else m)
                    lo, hi = ax.get_ylim()
                    for x_, (mu, sd) in zip(pos, cells):
                        if np.isfinite(mu) and lo <= mu <= hi:
                            # Every bar carries its value, written above its error bar, so a bar of
                            # about 0 reads as 0.003, not as missing.
                            y = (mu + sd) * 1.08 if log else mu + sd + 0.015 * (hi - lo)
                            ax.text(x_, y, format_number(mu, fmt), ha="center", va="bottom", fontsize=6,
                                    rotation=90 if len(shown) * len(points) > 8 else 0)
                if not angle and 0.5 < max(values, default=0.0) <= 1.0:  # head-room holds the values; a fraction's ticks stop at 1
                    ax.set_yticks([t for t in np.linspace(0, 1, 6) if t <= ax.get_ylim()[1]])
                ax.grid(alpha=0.3, axis="y")
                bottom_row = i == len(metrics) - 1  # the rows share the settings: name them once, at the bottom
                if single:
                    ax.set_xticks(xs, shown if bottom_row else [""] * len(shown), rotation=15, fontsize=8)
                    if bottom_row:
                        ax.set_xlabel(f"setting: {points[0].label}")  # the column title names the panel
                elif bottom_row:
                    ax.set_xticks(xs, [p.label for p in points], rotation=12 if len(points) > 2 else 0, fontsize=8)
                    ax.set_xlabel((x_labels or {}).get(panel, panel_titles.get(panel, panel)))
                else:
                    ax.set_xticks(xs, [""] * len(points))
            else:
                ax = fig.add_subplot(grid[i, j])
                axes = [ax]
                xs_run = sorted({float(p.x) for p in points})
                span = (xs_run[0], xs_run[-1]) if xs_run[-1] > xs_run[0] else (xs_run[0] - 1.0, xs_run[0] + 1.0)
                for m_i, m in enumerate(shown):
                    pts = sorted((float(p.x), *stats[(p.label, m, metric)][:2]) for p in points if (p.label, m, metric) in stats)
                    if not pts:
                        continue
                    x, mu, sd = (np.array(v) for v in zip(*pts))
                    x = _dodge(x, m_i, len(shown), span, panel in log_panels and span[0] > 0)
                    # On a log scale a lower bar below zero would vanish, so clip it inside the axis.
                    lower = np.minimum(sd, 0.9 * mu) if angle else sd
                    colour, ls, marker = styles[m]
                    # The contrastive learner is the subject: drawn last, on top of the references.
                    on_top = 5 if colour == PALETTE["vermillion"] else 3
                    ax.errorbar(x, mu, yerr=[lower, sd], marker=marker, ms=5, capsize=3, lw=1.6, ls=ls, color=colour,
                                label=m, zorder=on_top, mfc="white" if ls != "-" else colour)
                if panel in log_panels:
                    ax.set_xscale("log")
                ax.xaxis.set_major_locator(FixedLocator(xs_run))  # ticks where runs are, readable on a log axis
                ax.xaxis.set_major_formatter(plain)
                ax.xaxis.set_minor_locator(NullLocator())
                if angle:
                    ax.set_yscale("log")
                    finite = [v for v in values if np.isfinite(v) and v > 0]
                    lo = min(finite, default=1.0) / 1.6
                    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 45, 90) if lo <= t <= 100]
                    ax.set_ylim(lo, 100)
                    ax.yaxis.set_major_locator(FixedLocator(ticks))
                    ax.yaxis.set_major_formatter(plain)
                    ax.yaxis.set_minor_locator(NullLocator())
                elif metric in _UNIT_METRICS:
                    finite = [v for v in values if np.isfinite(v)]
                    ax.set_ylim(max(-0.02, min(finite, default=0.0) - 0.05), 1.02)
                if i == len(metrics) - 1 or len(panels) == 1:  # above the bottom row the column title says it
                    ax.set_xlabel((x_labels or {}).get(panel, panel_titles.get(panel, panel)))
                ax.grid(alpha=0.3)
            if decorate is not None:
                decorate(axes[-1], panel, metric, stats)
            if i == 0 and len(panels) > 1:
                axes[0].set_title(panel_titles.get(panel, panel), fontsize=10)
            label = panel_metric_labels.get((panel, metric), metric_labels.get(metric, metric))
            if j == 0 or (panel, metric) in panel_metric_labels or mixed:
                # Wrapped to the row's height, so the labels of two rows never run into each other.
                axes[-1].set_ylabel(textwrap.fill(label, width=34), fontsize=9)
    legend: dict[str, Any] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    order = [m for m in methods if m in legend] + [k for k in legend if k not in methods]
    labels, handles = order, [legend[k] for k in order]
    # As many legend columns as fit the width (about 5.5 points per character at 9 pt).
    per_entry = 5.5 * max((len(label) for label in labels), default=1) + 40
    ncol = max(1, min(len(labels), int(width * 72 // per_entry)))
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=9, frameon=False)
    full = f"{title} (mean ± sd over {n_seeds} seed{'s' if n_seeds != 1 else ''})"
    fig.suptitle(textwrap.fill(full, width=int(width * 72 / 5.8)), fontsize=10)
    fig.savefig(path, dpi=110)


def reference_slope(ax: Any, stats: dict, settings: Sequence[StudySetting], method: str, metric: str,
                    slope: float = -0.5) -> None:
    """A dashed line of the given log-log slope through ``method``'s first point: the √n rate, by default."""
    pts = sorted((float(s.x), stats[(s.label, method, metric)][0]) for s in settings if (s.label, method, metric) in stats)
    if len(pts) < 2:
        return
    x0, y0 = pts[0]
    xs = np.array([x0, pts[-1][0]])
    ax.plot(xs, y0 * (xs / x0) ** slope, color="#555555", ls=(0, (4, 3)), lw=1.0, zorder=1,
            label=f"slope {slope:g} (√n rate)" if slope == -0.5 else f"slope {slope:g}")


# ---------------------------------------------------------------------------- the report


def _verdict(holds: bool) -> str:
    return "**supported**" if holds else "**not supported**"


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def describe_setup(
    settings: Sequence[StudySetting], panel_titles: dict[str, str] | None = None, quiet: dict[str, Any] | None = None
) -> str:
    """What ran, from the settings themselves: the parameters all share, then what each panel varies.

    >>> pts = [StudySetting(f"n_pairs={n}", "n_pairs", float(n), {"dim": 40, "n_pairs": n}) for n in (1000, 4000)]
    >>> describe_setup(pts)
    'All settings: dim 40. n_pairs: n_pairs 1000, 4000.'
    """
    panel_titles, quiet = panel_titles or {}, quiet or {}
    # A parameter left at its default everywhere is not listed (the line says so).
    keys = [k for k in dict.fromkeys(k for s in settings for k in s.params)
            if not (k in quiet and all(s.params.get(k) == quiet[k] for s in settings))]
    present = lambda ss, k: [s.params.get(k) for s in ss if s.params.get(k) is not None]  # noqa: E731
    common = {k: settings[0].params.get(k) for k in keys
              if settings and all(s.params.get(k) == settings[0].params.get(k) for s in settings)
              and settings[0].params.get(k) is not None}
    parts = ["All settings: " + ", ".join(f"{k} {_value(v)}" for k, v in common.items()) + "." if common else ""]
    for panel in dict.fromkeys(s.panel for s in settings):
        ss = [s for s in settings if s.panel == panel]
        title = panel_titles.get(panel, panel)
        rest = [k for k in keys if k not in common and present(ss, k)]
        if any(isinstance(s.x, str) for s in ss):
            # Named settings: each one's own parameters.
            each = [f"{s.label} (" + ", ".join(f"{k} {_value(s.params[k])}" for k in rest
                                                if s.params.get(k) is not None and _value(s.params[k]) != s.label) + ")"
                    for s in ss]
            each = [e.removesuffix(" ()") for e in each]
            parts.append(f"{title}: " + "; ".join(each) + ".")
            continue
        varying = [k for k in rest if len(set(map(str, present(ss, k)))) > 1]
        fixed = [k for k in rest if k not in varying]
        text = f"{title}: " + "; ".join(f"{k} " + ", ".join(_value(v) for v in dict.fromkeys(present(ss, k))) for k in varying)
        if fixed:
            text += " (with " + ", ".join(f"{k} {_value(ss[0].params[k])}" for k in fixed) + ")"
        parts.append(text + ".")
    # Parameters left out as defaults are not named: the report's introduction says so.
    return " ".join(p for p in parts if p)


def _panel_titles(spec: StudySpec, settings: Sequence[StudySetting]) -> dict[str, str]:
    title = getattr(spec, "panel_title", None)
    return {p: title(p) for p in dict.fromkeys(s.panel for s in settings)} if callable(title) else {}


def _study_section(spec: StudySpec, rows: list[dict[str, Any]], figure: str, claims: list[ClaimResult]) -> str:
    parts = [f"## {spec.title}", ""]
    if spec.description:
        parts += [spec.description.strip(), ""]
    settings = spec.expand()
    n_runs = len({(r["setting"], r["seed"]) for r in rows})
    seeds = sorted({int(r["seed"]) for r in rows})
    parts += [
        f"![{spec.name}]({figure})", "",
        f"*Study `{spec.name}`: {n_runs} runs, root seed {spec.seed}, {len(seeds)} replicate{'s' if len(seeds) != 1 else ''}.* "
        + describe_setup([StudySetting(s.label, s.panel, s.x, spec.shown_params(s.params)) for s in settings],
                         _panel_titles(spec, settings), spec.quiet_defaults()),
        "",
    ]
    for i, c in enumerate(claims, 1):
        parts += [f"**{i}.** {c.sentence} — {_verdict(c.holds)}", ""]
    stats = setting_stats(rows)
    # One table per study: every (metric, setting) a claim looked at, every method that has it.
    used = _claim_cells(claims)
    if used:
        methods = list(dict.fromkeys(r["method"] for r in rows))
        rows_for = [(m, [s for s in settings if s.label in ls]) for m, ls in used.items()]
        # A metric the figure does not show gets only the methods a claim quotes on it (results.csv has the rest).
        figure = set(getattr(spec, "metrics", []))
        quoted = {m: ms for m, ms in _claim_methods(claims).items() if m not in figure}
        parts += [claims_table(stats, rows_for, methods, quoted), ""]
    notes = collapse_notes(rows)
    if notes:
        parts += ["**Collapsed maps** (a direction is lost when its singular value is below 1% of the largest):", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(parts)


def _claim_cells(claims: Sequence[ClaimResult]) -> dict[str, set[str]]:
    """The settings each metric's checks looked at (including those set aside), by metric."""
    used: dict[str, set[str]] = {}
    for c in claims:
        for r in c.checks:
            used.setdefault(r.check.metric, set()).update(s.label for s in (*r.settings, *(a for a, _ in r.set_aside)))
    return used


def _appendix(spec: StudySpec, rows: list[dict[str, Any]], claims: list[ClaimResult]) -> str:
    """Per-setting tables of the study's figure metrics, for the settings the body's table leaves out."""
    stats = setting_stats(rows)
    settings = [s for s in spec.expand() if any(r["setting"] == s.label for r in rows)]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    shown = _claim_cells(claims)
    wanted = list(getattr(spec, "metrics", []))
    parts = []
    for metric in wanted:
        # Only the settings the body's table leaves out, so no line is printed twice.
        rest = [s for s in settings if s.label not in shown.get(metric, set())]
        cols = [m for m in methods if any((s.label, m, metric) in stats for s in rest)]
        rows_ = [s for s in rest if any((s.label, m, metric) in stats for m in cols)]
        if cols and rows_:
            parts += [f"*{spec.name}: {metric}*", "", markdown_table(stats, rows_, cols, metric, sd=False), ""]
    return "\n".join(parts)


def _seeds_section(specs: Sequence[StudySpec]) -> str:
    lines = [
        "## Software and seeds",
        "",
        "Replicate r (column `seed` of results.csv) draws all its randomness from "
        "`numpy.random.SeedSequence(entropy=<study's root seed>, spawn_key=(r,))` (plus a hash of the setting with "
        "common random numbers off), so results do not depend on the backend, the workers or the order runs finish in.",
        "",
    ]
    off = [s.name for s in specs if not s.common_random_numbers]
    lines.append("Common random numbers are on in every study." if not off else f"Common random numbers are off in: {', '.join(off)}.")
    return "\n".join(lines)


def rows_by_study(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each study, by study name."""
    by_study: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_study.setdefault(r["study"], []).append(r)
    return by_study


def build_report(
    specs: Sequence[StudySpec],
    rows: Sequence[dict[str, Any]],
    manifest: dict[str, Any],
    figures: dict[str, str],
    claims: dict[str, list[ClaimResult]],
) -> str:
    """The Markdown report: a claims summary, a section per study (figure, claims, tables), versions and seeds."""
    by_study = rows_by_study(rows)
    compute = sum({r["task"]: float(r["run_seconds"]) for r in rows}.values())
    n_claims = sum(len(c) for c in claims.values())
    n_ok = sum(c.holds for cs in claims.values() for c in cs)
    head = [
        "# contrastive-gmm: reproduction report",
        "",
        "Linear contrastive learning on positive pairs of a Gaussian mixture recovers the Fisher (LDA) subspace "
        "without labels, where PCA fails (Bansal, Kavis, Sanghavi, arXiv 2411.03517). Each claim is filled in from "
        "this run's results; its study's table holds the means. Angles: the largest "
        "principal angle (degrees) to the true Fisher subspace; NMI: k-means on held-out points. Each study's line "
        "lists the setting parameters that ran (the others at their defaults; in the mixture studies k and "
        "n_noise_directions are K - 1 unless listed); a metric its figure does not show has, in its table, only "
        "the methods a claim quotes (results.csv has every number).",
        "",
        f"Command: `{manifest.get('command', 'cgmm')}`; "
        f"{manifest.get('n_runs', '?')} runs ({manifest.get('computed', '?')} computed, {manifest.get('reused', '?')} reused) "
        f"on the {manifest.get('backend', '?')} backend in {manifest.get('wall_seconds', math.nan):.0f} s "
        f"(the runs themselves took {compute:.0f} s of worker time); finished {manifest.get('finished', '?')}.",
        "",
        *([("A `--quick` run: fewer settings, replicates and pairs than the full specs (`cgmm reproduce` without "
            "`--quick`)."), ""]
          if manifest.get("quick") else []),
        f"## Claims: {n_ok} of {n_claims} supported",
    ]
    failed = [f"{name} claim {i}" for name, cs in claims.items() for i, c in enumerate(cs, 1) if not c.holds]
    if failed:
        head += ["", "Not supported: " + ", ".join(failed) + "."]
    body = [_study_section(s, by_study.get(s.name, []), figures[s.name], claims[s.name]) for s in specs]
    appendix = [a for a in (_appendix(s, by_study.get(s.name, []), claims[s.name]) for s in specs) if a]
    if appendix:
        body += ["## Appendix: per-setting tables", "",
                 "Figure metrics at the settings the study tables leave out: means (sd in the figures); every number is "
                 "in `results.csv`.", "", *appendix]
    versions = manifest.get("versions") or software_versions()
    software = ", ".join(f"{k} {v}" for k, v in versions.items())
    tail = [
        _seeds_section(specs),
        "",
        f"Software: {software}. Platform: {manifest.get('platform', platform.platform())}, {manifest.get('cpus', '?')} CPUs.",
        "",
    ]
    return "\n".join(head + [""] + body + tail)


def write_outputs(
    out_dir: str | Path, specs: Sequence[StudySpec], rows: Sequence[dict[str, Any]], manifest: dict[str, Any]
) -> tuple[Path, dict[str, list[ClaimResult]]]:
    """Write results.csv, studies.json, manifest.json, a figure per study and report.md.

    Returns the report's path and each study's evaluated claims.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_results_csv(rows, out / "results.csv")
    studies = {"studies": [s.model_dump(mode="json", by_alias=True) for s in specs]}
    _write_atomic(out / "studies.json", json.dumps(studies, indent=1))
    _write_atomic(out / "manifest.json", json.dumps(manifest, indent=1))
    return render(out, specs, rows, manifest)


def render(
    out: Path, specs: Sequence[StudySpec], rows: Sequence[dict[str, Any]], manifest: dict[str, Any]
) -> tuple[Path, dict[str, list[ClaimResult]]]:
    """Draw each study's figure and write report.md into ``out``; returns its path and the claims."""
    by_study = rows_by_study(rows)
    figures = {}
    for spec in specs:
        figures[spec.name] = f"{spec.name}.png"
        if by_study.get(spec.name):
            get_kind(spec.kind).plot(spec, by_study[spec.name], out / figures[spec.name])
    claims = {s.name: evaluate_claims(s, by_study.get(s.name, [])) for s in specs}
    path = out / "report.md"
    _write_atomic(path, build_report(specs, rows, manifest, figures, claims))
    return path, claims


def load_outputs(out_dir: str | Path) -> tuple[list[StudySpec], list[dict[str, Any]], dict[str, Any]]:
    """Read back the specs, rows and manifest that :func:`write_outputs` saved."""
    out = Path(out_dir)
    if not (out / "studies.json").exists():
        raise FileNotFoundError(f"{out} holds no studies.json: it is not a finished `cgmm reproduce` / `cgmm run` folder")
    raw = json.loads((out / "studies.json").read_text())
    specs = [parse_study(s, source=f"{out / 'studies.json'}") for s in raw.get("studies", [])]
    rows = read_results_csv(out / "results.csv")
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else {}
    return specs, rows, manifest


def render_report(out_dir: str | Path) -> Path:
    """Re-draw the figures and rewrite report.md from a finished folder's saved results."""
    specs, rows, manifest = load_outputs(out_dir)
    return render(Path(out_dir), specs, rows, manifest)[0]


def run_manifest(command: str, quick: bool, backend: str, execution: Any, wall_seconds: float) -> dict[str, Any]:
    """What the report states about a run: command, backend, counts, time, versions, platform."""
    return {
        "command": command,
        "quick": quick,
        "backend": backend,
        "n_runs": execution.computed + execution.reused,
        "computed": execution.computed,
        "reused": execution.reused,
        "wall_seconds": wall_seconds,
        "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": software_versions(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


__all__ = [
    "format_number",
    "write_results_csv",
    "read_results_csv",
    "software_versions",
    "setting_stats",
    "select_settings",
    "describe_where",
    "CheckResult",
    "evaluate_check",
    "markdown_table",
    "ClaimResult",
    "evaluate_claims",
    "collapse_notes",
    "VARIANT_STYLES",
    "method_styles",
    "method_colours",
    "plot_panels",
    "reference_slope",
    "describe_setup",
    "build_report",
    "write_outputs",
    "render",
    "load_outputs",
    "render_report",
    "run_manifest",
]
