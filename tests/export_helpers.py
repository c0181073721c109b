"""Running generated model sources in a fresh interpreter that has torch and nothing of this project."""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import torch

from explorer.core.build import build_model
from explorer.core.export.pytorch_source import factory_name, pytorch_source
from explorer.core.spec import ArchSpec

RUFF = Path(sys.executable).parent / "ruff"

# Runs in a fresh interpreter: for each case, imports the generated module with this project made
# unimportable, draws its seeded initial weights, loads the built model's weights strictly and
# runs the saved input in eval and train mode.
_RUNNER = """
import importlib.util, sys, torch
sys.modules["explorer"] = None
for folder in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("generated", folder + "/model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    case = torch.load(folder + "/case.pt", weights_only=True)
    torch.set_num_threads(case["threads"])  # as many as the reference ran on: the same sums
    torch.manual_seed(case["seed"])
    model = getattr(module, case["factory"])()
    seeded = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(case["weights"], strict=True)
    model.eval()
    with torch.no_grad():
        evaluated = model(case["input"])
    model.train()
    torch.manual_seed(case["seed"])
    trained = model(case["input"])
    torch.save({"seeded": seeded, "eval": evaluated, "train": trained.detach()}, folder + "/out.pt")
"""

SEED = 3


def run_generated(specs: list[ArchSpec], folder: Path) -> None:
    """Checks each spec's generated module in one fresh interpreter against ``build_model``:
    the seeded weights, then eval and train outputs on the same weights, all bit for bit."""
    folders = []
    references = []
    for i, spec in enumerate(specs):
        case = folder / f"case{i}"
        case.mkdir()
        (case / "model.py").write_text(pytorch_source(spec))
        torch.manual_seed(SEED)
        seeded = build_model(spec)
        model = build_model(spec)  # other weights than the seeded ones: the load must take
        # Before the train-mode pass, which moves the norms' running statistics.
        weights = {key: value.clone() for key, value in model.state_dict().items()}
        x = torch.randn(2, *spec.input_shape)
        model.eval()
        with torch.no_grad():
            evaluated = model(x)
        model.train()
        torch.manual_seed(SEED)
        trained = model(x).detach()
        torch.save(
            {
                "seed": SEED,
                "factory": factory_name(spec),
                "weights": weights,
                "input": x,
                "threads": torch.get_num_threads(),
            },
            case / "case.pt",
        )
        folders.append(str(case))
        references.append((seeded.state_dict(), evaluated, trained))
    done = subprocess.run(
        [sys.executable, "-I", "-c", _RUNNER, *folders], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for spec, case, (seeded, evaluated, trained) in zip(specs, folders, references, strict=True):
        out = torch.load(Path(case) / "out.pt", weights_only=True)
        assert list(out["seeded"]) == list(seeded), spec
        for key, value in seeded.items():
            assert torch.equal(out["seeded"][key], value), (spec, key)
        # Bit for bit; an untrained very deep network overflows to NaN, which must match too.
        torch.testing.assert_close(out["eval"], evaluated, rtol=0, atol=0, equal_nan=True, msg=str(spec))
        torch.testing.assert_close(out["train"], trained, rtol=0, atol=0, equal_nan=True, msg=str(spec))


def check_ruff(folder: Path) -> None:
    """The generated files pass ruff's default checks and are laid out as ruff format lays them out."""
    for args in (["check", "--isolated", "--no-cache"], ["format", "--isolated", "--no-cache", "--check"]):
        done = subprocess.run([str(RUFF), *args, str(folder)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def assert_seeded_match(spec: ArchSpec, module: types.ModuleType) -> None:
    """In this interpreter: the generated factory of ``module`` and ``build_model(spec)``, each
    made after the same seed, hold the same weights in the same order, and compute the same
    outputs in eval and in train mode, bit for bit."""
    torch.manual_seed(SEED)
    reference = build_model(spec)
    torch.manual_seed(SEED)
    generated = getattr(module, factory_name(spec))()
    expected, actual = reference.state_dict(), generated.state_dict()
    assert list(actual) == list(expected), spec
    for key, value in expected.items():
        assert torch.equal(actual[key], value), (spec, key)
    x = torch.randn(2, *spec.input_shape)
    for model in (reference, generated):
        model.eval()
    with torch.no_grad():
        # An untrained very deep network overflows to NaN, which must match too.
        torch.testing.assert_close(generated(x), reference(x), rtol=0, atol=0, equal_nan=True, msg=str(spec))
    outputs = []
    for model in (reference, generated):
        model.train()
        torch.manual_seed(SEED)
        with torch.no_grad():
            outputs.append(model(x))
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=0, equal_nan=True, msg=str(spec))


def assert_same_state_dict_on_meta(spec: ArchSpec, module: types.ModuleType) -> None:
    """The generated network's state_dict has ``build_model``'s keys, in order, and shapes,
    made on the meta device (no memory, no initialisation drawn)."""
    with torch.device("meta"):
        generated = getattr(module, factory_name(spec))()
    reference = build_model(spec, "meta")
    shapes = [(key, tuple(value.shape)) for key, value in generated.state_dict().items()]
    assert shapes == [(key, tuple(value.shape)) for key, value in reference.state_dict().items()], spec


def imported_modules(source: str) -> set[str]:
    """The top-level packages a source imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").partition(".")[0])
    return names


def assert_needs_only_torch(source: str) -> None:
    """The source imports torch and the standard library, nothing else."""
    assert imported_modules(source) <= {"torch"} | set(sys.stdlib_module_names), imported_modules(source)
