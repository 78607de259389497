"""RELIABILITY T11: no file rnnkit reads can run code, and no unsafe loader is in the package.

Dynamic: for every kind of file rnnkit reads (model zip, Keras .keras and HDF5 files,
weights, tuner checkpoint weights, optimizer state and manifest, forecaster and
classifier folders, the tuner's study file) a real pickle payload (its ``__reduce__``
creates a marker file) is put where that file belongs: as raw pickle bytes, as a
``torch.save`` file, and as a container whose expected member holds the pickle (a zip
with rnnkit's or Keras 3's member names, or an HDF5 file with pickles as its config
and a weight). rnnkit's real loaders, and ``rnnkit predict``, then run in a subprocess
whose environment has ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` (so a ``torch.load``
relying on the default would unpickle). Each load must raise a named ``RnnkitError``
naming the file, and no marker may appear. Controls in the same subprocess show the
payloads do run when unpickled, so the test cannot pass vacuously.

Static: an AST walk over ``src/rnnkit`` resolves import aliases and flags every
unsafe loader spelling; a self-test shows each spelling in a sample source is caught.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential

SRC = Path(rnnkit.__file__).parent


# ====================================================================== static check
# Calls that can run code from bytes, by fully qualified name (after resolving aliases).
UNSAFE_CALLS = {
    "pickle.load": "unpickles",
    "pickle.loads": "unpickles",
    "pickle.Unpickler": "unpickles",
    "_pickle.load": "unpickles",
    "_pickle.loads": "unpickles",
    "_pickle.Unpickler": "unpickles",
    "cPickle.load": "unpickles",
    "cPickle.loads": "unpickles",
    "joblib.load": "unpickles",
    "pandas.read_pickle": "unpickles",
    "torch.serialization.load": "unpickles unless weights_only",
    "yaml.load": "builds arbitrary objects",
    "yaml.load_all": "builds arbitrary objects",
    "yaml.unsafe_load": "builds arbitrary objects",
    "yaml.unsafe_load_all": "builds arbitrary objects",
    "yaml.full_load": "builds arbitrary objects",
    "builtins.eval": "runs code",
    "builtins.exec": "runs code",
    "builtins.compile": "runs code",
    "builtins.__import__": "imports by name",
}
# Modules with no safe use when reading files: any use at all is flagged.
UNSAFE_MODULES = {"shelve", "marshal", "dill", "cloudpickle"}
BUILTINS = {"eval", "exec", "compile", "__import__"}


def _import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> fully qualified name, from every import in the module."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _qualified(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The fully qualified name an expression refers to, or ``None`` if not an import."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    if node.id in aliases:
        base = aliases[node.id]
    elif node.id in BUILTINS and not parts:
        base = f"builtins.{node.id}"
    else:
        return None
    return ".".join([base, *reversed(parts)])


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _is_constant(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _unsafe(call: ast.Call, name: str) -> str | None:
    """Why calling ``name`` this way is unsafe, or ``None``."""
    splat = any(kw.arg is None for kw in call.keywords)  # **kwargs could hold anything
    if name.split(".")[0] in UNSAFE_MODULES:
        return f"{name}( uses the {name.split('.')[0]} module"
    if name == "torch.load":
        if splat or not _is_constant(_keyword(call, "weights_only"), True):
            return "torch.load( without weights_only=True"
        return None
    if name == "numpy.load":
        allow = _keyword(call, "allow_pickle")
        if splat or (allow is not None and not _is_constant(allow, False)):
            return "numpy.load( with allow_pickle"
        return None
    if name in UNSAFE_CALLS:
        return f"{name}( {UNSAFE_CALLS[name]}"
    return None


def forbidden_calls(source: str) -> list[str]:
    """Every unsafe loader use in ``source``, as ``"line N: what"``, in line order.

    Calls are judged with their arguments (``torch.load`` needs ``weights_only=True``);
    an unsafe function merely referenced (``map(pickle.loads, ...)``) is flagged too.
    """
    tree = ast.parse(source)
    aliases = _import_aliases(tree)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _qualified(node.func, aliases)
            if name is None and isinstance(node.func, ast.Name) and node.func.id == "getattr":
                owner = _qualified(node.args[0], aliases) if node.args else None
                if owner and owner.split(".")[0] in {"pickle", "_pickle", *UNSAFE_MODULES}:
                    found.append((node.lineno, f"getattr({owner}, ...) reaches an unpickler"))
                continue
            reason = _unsafe(node, name) if name else None
            if reason:
                found.append((node.lineno, reason))
        elif isinstance(node, (ast.Attribute, ast.Name)) and id(node) not in called:
            local = isinstance(node, ast.Name) and node.id not in aliases  # `compile=True`
            loaded = isinstance(node.ctx, ast.Load) and not local
            name = _qualified(node, aliases) if loaded else None
            if name in UNSAFE_CALLS or name in ("torch.load", "numpy.load"):
                found.append((node.lineno, f"{name} referenced (called elsewhere unchecked)"))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules = [node.module]
            for module in modules:
                if module.split(".")[0] in UNSAFE_MODULES:
                    found.append((node.lineno, f"import of {module}"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


UNSAFE_SAMPLE = """\
import pickle
import pickle as pk
from pickle import loads
from pickle import load as read_it
import _pickle
import numpy as np
import pandas as pd
import torch
import torch as T
from torch import load as tload
from torch.serialization import load as sload
import torch.serialization
import shelve
import marshal
import dill
import joblib
import yaml
import builtins
pickle.load(f)
pk.loads(b)
loads(b)
read_it(f)
_pickle.loads(b)
pickle.Unpickler(f).load()
np.load(p, allow_pickle=True)
np.load(p, allow_pickle=flag)
pd.read_pickle(p)
torch.load(p)
T.load(p, weights_only=False)
tload(p, map_location="cpu")
torch.load(p, **options)
sload(p)
torch.serialization.load(p, weights_only=True)
shelve.open(p)
marshal.loads(b)
dill.loads(b)
joblib.load(p)
yaml.load(text, Loader=yaml.Loader)
yaml.unsafe_load(text)
eval("1")
exec("x = 1")
builtins.eval("1")
getattr(pickle, "loads")(b)
class Reader(pickle.Unpickler): pass
decode = map(pickle.loads, blobs)
"""

UNSAFE_FOUND = [
    "line 13: import of shelve",
    "line 14: import of marshal",
    "line 15: import of dill",
    "line 19: pickle.load( unpickles",
    "line 20: pickle.loads( unpickles",
    "line 21: pickle.loads( unpickles",
    "line 22: pickle.load( unpickles",
    "line 23: _pickle.loads( unpickles",
    "line 24: pickle.Unpickler( unpickles",
    "line 25: numpy.load( with allow_pickle",
    "line 26: numpy.load( with allow_pickle",
    "line 27: pandas.read_pickle( unpickles",
    "line 28: torch.load( without weights_only=True",
    "line 29: torch.load( without weights_only=True",
    "line 30: torch.load( without weights_only=True",
    "line 31: torch.load( without weights_only=True",
    "line 32: torch.serialization.load( unpickles unless weights_only",
    "line 33: torch.serialization.load( unpickles unless weights_only",
    "line 34: shelve.open( uses the shelve module",
    "line 35: marshal.loads( uses the marshal module",
    "line 36: dill.loads( uses the dill module",
    "line 37: joblib.load( unpickles",
    "line 38: yaml.load( builds arbitrary objects",
    "line 39: yaml.unsafe_load( builds arbitrary objects",
    "line 40: builtins.eval( runs code",
    "line 41: builtins.exec( runs code",
    "line 42: builtins.eval( runs code",
    "line 43: getattr(pickle, ...) reaches an unpickler",
    "line 44: pickle.Unpickler referenced (called elsewhere unchecked)",
    "line 45: pickle.loads referenced (called elsewhere unchecked)",
]

SAFE_SAMPLE = """\
import json
import pickle
import numpy as np
import torch
import yaml
from safetensors.numpy import load
model.eval()
self.load(path)
pickle.dumps(obj)
np.load(p)
np.load(p, allow_pickle=False)
torch.load(p, weights_only=True)
yaml.safe_load(text)
json.loads(text)
load(data)
def eval(x): return x
def load_model(path, compile=True): return compile
"""


def test_static_checker_flags_every_unsafe_spelling():
    assert forbidden_calls(UNSAFE_SAMPLE) == UNSAFE_FOUND


def test_static_checker_passes_safe_spellings():
    assert forbidden_calls(SAFE_SAMPLE) == []


# In-memory messages between the tuner and the worker processes it started itself
# (the hypermodel it hands over, errors it gets back), never bytes read from a file:
# the same thing multiprocessing does internally. Nothing here reads pickles from disk.
INTER_PROCESS_ONLY = {"tuner/_workers.py": {"pickle.loads( unpickles"}}


def test_no_unsafe_loader_anywhere_in_src():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    offenders = {}
    for path in files:
        relative = path.relative_to(SRC).as_posix()
        allowed = INTER_PROCESS_ONLY.get(relative, set())
        found = [
            item
            for item in forbidden_calls(path.read_text(encoding="utf-8"))
            if item.split(": ", 1)[1] not in allowed
        ]
        if found:
            offenders[relative] = found
    assert offenders == {}


def test_inter_process_unpickling_never_reads_a_file():
    """The allowed pickle.loads calls read multiprocessing queues and arguments, never files."""
    source = (SRC / "tuner" / "_workers.py").read_text(encoding="utf-8")
    assert "open(" not in source and "read_bytes" not in source
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _qualified(node.func, {"pickle": "pickle"}) == (
            "pickle.loads"
        ):
            argument = ast.unparse(node.args[0])
            assert "read" not in argument and "open" not in argument, argument


# ===================================================================== dynamic check
class Payload:
    """Unpickling this creates ``marker`` (``open(marker, "w")``): proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _raw(marker: Path) -> bytes:
    return pickle.dumps(Payload(marker))


def _torch_saved(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"weights": Payload(marker)}, buffer)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _model_zip_with_pickle(model_file: Path, marker: Path) -> bytes:
    """The real model zip with its weights member replaced by a pickle, manifest to match."""
    with zipfile.ZipFile(model_file) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model.safetensors"] = _raw(marker)
    digests = {k: hashlib.sha256(v).hexdigest() for k, v in members.items() if k != "manifest.json"}
    members["manifest.json"] = json.dumps({"files": digests}).encode()
    return _zip(members)


def _zip_form(marker: Path, member: str) -> bytes:
    return _zip({member: _raw(marker), "archive/data.pkl": _raw(marker)})


def _keras_zip(marker: Path) -> bytes:
    """A zip rnnkit takes for a Keras 3 ``.keras`` file, every member a pickle."""
    names = ("config.json", "metadata.json", "model.weights.h5")
    return _zip({name: _raw(marker) for name in names})


def _hdf5(marker: Path) -> bytes:
    """A Keras-style HDF5 file whose config attribute and a weight hold pickles."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle.attrs["model_config"] = np.void(_raw(marker))
        handle.attrs["keras_version"] = "3.15.1"
        group = handle.create_group("model_weights/dense/dense")
        group.create_dataset("kernel:0", data=np.frombuffer(_raw(marker), dtype=np.uint8))
    return buffer.getvalue()


def _model() -> Sequential:
    model = Sequential([SimpleRNN(3, input_shape=(4, 2)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((8, 4, 2), "float32"), np.zeros((8, 1), "float32"), epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """One genuine file or folder of every kind rnnkit reads."""
    from rnnkit.tuner import RandomSearch
    from rnnkit.tuner._checkpoint import save_checkpoint
    from rnnkit.workflow.classification import fit_sequence_classifier
    from rnnkit.workflow.classification import save_classifier

    root = tmp_path_factory.mktemp("clean")
    model = _model()
    model.save(str(root / "model.keras"))
    model.save_weights(str(root / "model.weights.safetensors"))
    save_checkpoint(root / "trial", model, epoch=0, value=1.0)

    from rnnkit.data.scaling import make_window_scaler
    from rnnkit.workflow.forecaster import Forecaster

    forecaster_model = Sequential([SimpleRNN(3, input_shape=(4, 2)), Dense(1)])
    forecaster_model.compile(optimizer="adam", loss="mse")
    scaler = make_window_scaler("global", targets=[0]).fit(np.ones((5, 4, 2)) * [1.0, 2.0])
    spec = {"targets": ["y"], "features": ["y", "x"], "window": 4, "horizon": 1}
    Forecaster(forecaster_model, scaler, spec).save(root / "forecaster")
    pd.DataFrame({"y": np.arange(10.0), "x": np.ones(10)}).to_csv(root / "data.csv", index=False)

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "seq": np.repeat([f"s{i}" for i in range(30)], 5),
            "step": np.tile(np.arange(5), 30),
            "activity": np.repeat(["a", "b", "c"] * 10, 5),
            "v": rng.normal(size=150),
        }
    )
    fitted = fit_sequence_classifier(
        data=frame, id_column="seq", time_column="step", label_column="activity", epochs=1
    )
    save_classifier(fitted, root / "classifier")

    RandomSearch(
        lambda hp: _model(),
        objective="val_loss",
        max_trials=1,
        directory=root,
        project_name="study",
    )
    assert (root / "study" / "study.db").is_file()
    return root


def _place(clean: Path, case: Path, target: str, data: bytes, *, fix_checksum=None) -> None:
    """Copy the clean tree to ``case`` and put ``data`` at ``target`` inside it."""
    import shutil

    shutil.copytree(clean, case)
    (case / target).write_bytes(data)
    if fix_checksum:
        fix_checksum(case, target, data)


def _fix_checkpoint(case: Path, target: str, data: bytes) -> None:
    """Make the manifest vouch for the hostile file, so its parser is reached."""
    manifest_path = case / "trial" / "checkpoint.json"
    manifest = json.loads(manifest_path.read_text())
    for part in ("weights", "optimizer"):
        item = manifest["current"][part]
        if item["file"] == Path(target).name:
            item.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    manifest_path.write_text(json.dumps(manifest))


def _fix_forecaster(case: Path, target: str, data: bytes) -> None:
    path = case / "forecaster" / "forecaster.json"
    document = json.loads(path.read_text())
    document["model_sha256"] = hashlib.sha256(data).hexdigest()
    path.write_text(json.dumps(document))


# The runner executed in the subprocess: one call per case, outcomes as JSON lines.
RUNNER = textwrap.dedent(
    """
    import json, sys, warnings
    from pathlib import Path
    warnings.simplefilter("ignore")
    from rnnkit.errors import RnnkitError

    def model():
        from rnnkit.layers import Dense, SimpleRNN
        from rnnkit.models import Sequential
        m = Sequential([SimpleRNN(3, input_shape=(4, 2)), Dense(1)])
        m.compile(optimizer="adam", loss="mse")
        return m

    def load(kind, root):
        if kind == "model":
            from rnnkit.models import load_model
            return load_model(root / "model.keras")
        if kind == "weights":
            return model().load_weights(str(root / "model.weights.safetensors"))
        if kind == "checkpoint":
            from rnnkit.tuner._checkpoint import load_checkpoint
            return load_checkpoint(root / "trial", model(), with_optimizer=True)
        if kind == "forecaster":
            from rnnkit.workflow.forecaster import Forecaster
            return Forecaster.load(root / "forecaster")
        if kind == "classifier":
            from rnnkit.workflow.classification import load_classifier
            return load_classifier(root / "classifier")
        if kind == "study":
            from rnnkit.tuner import RandomSearch
            return RandomSearch(lambda hp: model(), objective="val_loss", max_trials=1,
                                directory=root, project_name="study")
        if kind == "predict":  # `rnnkit predict FOLDER DATA`, as the console script runs it
            import contextlib, io
            from rnnkit.cli.app import app
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    app(["predict", str(root / "forecaster"), str(root / "data.csv")])
                    code = 0
                except SystemExit as stop:
                    code = stop.code
            return {"exit_code": code, "stderr": err.getvalue()}
        if kind == "control-pickle":
            import pickle
            return pickle.loads((root / "control.pkl").read_bytes())
        if kind == "control-torch":
            import torch
            return torch.load(root / "control.pt")  # the env var makes this unpickle
        raise AssertionError(kind)

    for line in sys.stdin:
        case = json.loads(line)
        try:
            result = load(case["kind"], Path(case["root"]))
            outcome = {"error": None, **(result if case["kind"] == "predict" else {})}
        except BaseException as exc:
            outcome = {"error": type(exc).__name__, "named": isinstance(exc, RnnkitError),
                       "message": str(exc)}
        print(json.dumps({**case, **outcome}), flush=True)
    """
)

FORMS = ("raw", "torch", "zip")  # "zip": the container form (a zip, or HDF5 for the h5 cases)
# (case name, loader kind, target file inside the tree, zip member, checksum fixer)
TARGETS = [
    ("model zip", "model", "model.keras", None, None),
    ("keras model zip", "model", "model.keras", "KERAS", None),
    ("keras h5 model", "model", "model.keras", "HDF5", None),
    ("keras h5 weights", "weights", "model.weights.safetensors", "HDF5", None),
    ("weights", "weights", "model.weights.safetensors", "model.safetensors", None),
    ("checkpoint weights", "checkpoint", "weights", None, _fix_checkpoint),
    ("checkpoint optimizer", "checkpoint", "optimizer", None, _fix_checkpoint),
    ("checkpoint manifest", "checkpoint", "trial/checkpoint.json", "checkpoint.json", None),
    ("forecaster.json", "forecaster", "forecaster/forecaster.json", "forecaster.json", None),
    ("forecaster model", "forecaster", "forecaster/model.keras", None, _fix_forecaster),
    ("classifier.json", "classifier", "classifier/classifier.json", "classifier.json", None),
    ("classifier model", "classifier", "classifier/model.keras", None, None),
    ("study file", "study", "study/study.db", "study.db", None),
]
CLI_TARGETS = [
    ("predict forecaster.json", "predict", "forecaster/forecaster.json", "forecaster.json", None),
    ("predict model", "predict", "forecaster/model.keras", None, _fix_forecaster),
]


def _payload(form: str, marker: Path, target: Path, member: str | None, clean: Path) -> bytes:
    if form == "raw":
        return _raw(marker)
    if form == "torch":
        return _torch_saved(marker)
    if member == "KERAS":
        return _keras_zip(marker)
    if member == "HDF5":
        return _hdf5(marker)
    if member is None and target.name.endswith(".keras"):
        return _model_zip_with_pickle(clean / "model.keras", marker)
    return _zip_form(marker, member or target.name)


@pytest.fixture(scope="module")
def outcomes(clean, tmp_path_factory):
    """Run every hostile case (and two controls) in one subprocess with the unsafe env."""
    work = tmp_path_factory.mktemp("hostile")
    manifest = json.loads((clean / "trial" / "checkpoint.json").read_text())
    cases = []
    for name, kind, target, member, fixer in TARGETS + CLI_TARGETS:
        if target in ("weights", "optimizer"):
            target = f"trial/{manifest['current'][target]['file']}"
        for form in FORMS:
            label = f"{name} as {form}"
            case = work / label.replace(" ", "_").replace(".", "_")
            marker = work / f"{case.name}.marker"
            data = _payload(form, marker, Path(target), member, clean)
            _place(clean, case, target, data, fix_checksum=fixer)
            cases.append(
                {
                    "label": label,
                    "kind": kind,
                    "root": str(case),
                    "marker": str(marker),
                    "file": Path(target).name,
                }
            )
    controls = work / "controls"
    controls.mkdir()
    for kind, file, make in (
        ("pickle", "control.pkl", _raw),
        ("torch", "control.pt", _torch_saved),
    ):
        marker = work / f"control-{kind}.marker"
        (controls / file).write_bytes(make(marker))
        cases.append(
            {
                "label": f"control {kind}",
                "kind": f"control-{kind}",
                "root": str(controls),
                "marker": str(marker),
            }
        )
    env = {**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input="".join(json.dumps(c) + "\n" for c in cases),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["label"] for r in results] == [c["label"] for c in cases]
    return {r["label"]: r for r in results}


def test_controls_show_the_payload_runs_when_unpickled(outcomes):
    for label in ("control pickle", "control torch"):
        assert Path(outcomes[label]["marker"]).exists(), label  # the env var is in force


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", [t[0] for t in TARGETS])
def test_pickle_payload_never_runs_and_is_a_named_error_t11(outcomes, name, form):
    outcome = outcomes[f"{name} as {form}"]
    assert not Path(outcome["marker"]).exists(), "the payload ran"
    assert outcome["error"] is not None, "the hostile file loaded"
    assert outcome["named"], f"{outcome['error']}: {outcome['message']}"
    assert "\n" not in outcome["message"].strip()
    assert outcome["file"] in outcome["message"], "the message does not name the file"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", [t[0] for t in CLI_TARGETS])
def test_rnnkit_predict_refuses_a_pickled_forecaster_in_one_line_t11(outcomes, name, form):
    outcome = outcomes[f"{name} as {form}"]
    assert not Path(outcome["marker"]).exists(), "the payload ran"
    assert outcome["exit_code"] == 1, outcome
    assert "internal error" not in outcome["stderr"]
    assert outcome["file"] in outcome["stderr"], outcome["stderr"]
