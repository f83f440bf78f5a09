"""The package's layers: the library imports alone, each layer imports only the ones below it, and the metadata is honest."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import contrastive_gmm

PACKAGE = Path(contrastive_gmm.__file__).parent
ROOT = PACKAGE.parents[1]

# Each layer and what it may import from the package (besides the foundation, which all may use).
FOUNDATION = {"_validation", "defaults", "distributed", "methods"}
LAYERS = {
    "moments": set(),  # streamed sums of row-paired views: the foundation of every second moment
    "linalg": {"moments"},
    "mixtures": {"linalg", "moments"},  # the multimodal model's closed forms use the shared CCA algebra
    "data": {"mixtures", "linalg", "moments"},  # pairs are drawn from mixtures
    "losses": set(),
    "learners": {"mixtures", "data", "linalg", "moments", "losses"},
    "metrics": {"learners", "linalg", "moments"},  # learned_subspace reads a fitted learner's attributes
    "model_io": {"learners"},
    # The real-data recipe composes learners, metrics and model files.
    "embedding": {"mixtures", "data", "linalg", "moments", "losses", "learners", "metrics", "model_io"},
    # The population loss and its optimum: the mixtures' moments, the learners' parametrisation, the metrics.
    "population": {"mixtures", "linalg", "moments", "learners", "metrics"},
    "experiments": {"mixtures", "data", "linalg", "moments", "losses", "learners", "metrics", "model_io", "embedding", "population", "experiments"},
    "cli": {"mixtures", "data", "linalg", "moments", "losses", "learners", "metrics", "model_io", "embedding", "population", "experiments", "cli"},
}


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _package_imports(path: Path) -> set[str]:
    """The contrastive_gmm modules ``path`` imports (top level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("contrastive_gmm"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("contrastive_gmm"))
    return out


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return out


@pytest.mark.parametrize("module,path", _modules(), ids=[m for m, _ in _modules()])
def test_a_module_imports_only_layers_below_it(module: str, path: Path) -> None:
    layer = _layer(module)
    if layer in FOUNDATION or layer == "":
        allowed = FOUNDATION | ({"learners", "mixtures", "data", "linalg", "moments", "losses", "metrics", "model_io", "embedding", "population"} if layer == "" else set())
    else:
        allowed = FOUNDATION | LAYERS[layer] | {layer}
    if module == "contrastive_gmm.methods":
        allowed = {"_validation"}  # the registry names its targets as strings: it imports no learner
    for imported in _package_imports(path):
        target = _layer(imported)
        if target == "" and imported == "contrastive_gmm":
            continue  # __version__
        assert target in allowed, f"{module} imports {imported}: layer {target!r} is not below {layer or 'the package'!r}"


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout


HEAVY = ("pydantic", "matplotlib", "dask", "distributed", "typer", "tomllib", "contrastive_gmm.experiments", "contrastive_gmm.cli")


def test_import_contrastive_gmm_loads_the_library_only() -> None:
    # A learner and a mixture used as a user would: still none of the experiment layer's dependencies.
    code = (
        "import sys, contrastive_gmm as cg\n"
        "gmm = cg.GMM.random(3, 6, random_state=0); X, Xp, _, _ = gmm.sample_pairs(200, random_state=0)\n"
        "cg.PairCCA(2).fit(X, Xp); cg.InfoNCE\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith({HEAVY[-2:]!r})))"
    )
    assert _run(code).strip() == "[]"


def test_cgmm_help_does_not_import_torch_or_the_learners() -> None:
    code = (
        "import sys\nfrom contrastive_gmm.cli import run\nsys.argv = ['cgmm', 'fit', '--help']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn', 'numpy', 'matplotlib') "
        "or m.startswith('contrastive_gmm.learners')))"
    )
    out = _run(code)
    assert "barlow_twins" in out  # the registry's methods are listed without importing them
    assert out.strip().endswith("LOADED []")


def test_every_imported_distribution_is_declared_and_python_matches() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in meta["dependencies"]}
    optional = {d.split(">")[0].split("[")[0].strip().lower() for ds in meta["optional-dependencies"].values() for d in ds}
    dist = {"sklearn": "scikit-learn", "yaml": "pyyaml"}
    stdlib = set(sys.stdlib_module_names)
    used = set()
    for _, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            used.update(n.split(".")[0] for n in names)
    third_party = {dist.get(n, n).lower() for n in used if n not in stdlib and n != "contrastive_gmm"}
    missing = third_party - declared - optional
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"
    # tomllib (the study specs) is in the standard library from 3.11 on.
    assert meta["requires-python"] == ">=3.11"


def _first_names() -> list[str]:
    # One public name per module it lives in: the first access is the one that imports the module.
    seen: dict[str, str] = {}
    for name, module in contrastive_gmm._EXPORTS.items():
        seen.setdefault(module, name)
    return [*seen.values(), "InfoNCE"]


@pytest.mark.parametrize("name", _first_names())
def test_each_public_name_imports_first_in_a_fresh_process(name: str) -> None:
    # Lazy imports hide cycles until a name is the first one used (save_model before any learner
    # was one: model_io -> learners -> the real-data recipe -> model_io).
    out = _run(f"import contrastive_gmm as cg\nobj = cg.{name}\nprint(len(cg.__all__) > 40)")
    assert out.strip() == "True"
