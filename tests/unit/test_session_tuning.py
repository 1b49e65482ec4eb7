"""Session options per model variant: the manifest's `session` field reaches the session.

An int8 export and its fp16 twin want different ONNX Runtime options (docs/engine.md);
these tests build tiny graphs (tiny_models.py) with a `session` entry and read back what
ONNX Runtime was given, and what its optimiser did to the graph.
"""

from __future__ import annotations

import io

import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from PIL import Image
from tiny_models import OPSET, family_graph, write_model

from cutout.engine import Engine
from cutout.engine.families import FAMILIES
from cutout.engine.models import model_spec
from cutout.engine.session import SegmentationModel, session_options
from cutout.errors import ModelError

U2NET = FAMILIES["u2net"]
QUANT_KEY = "session.x64quantprecision"


def _variant(tmp_path, graph: onnx.ModelProto | None = None, **session):
    write_model(tmp_path, "variant", graph or family_graph(U2NET), family="u2net",
                session=session)
    return model_spec("variant", tmp_path)


def _foldable_graph() -> onnx.ModelProto:
    """U^2-Net's shapes; its offset is a product of two constants, which folding removes."""
    def constant(name: str, value: float) -> onnx.NodeProto:
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(
            name, TensorProto.FLOAT, [], [value]))

    def tensor(name: str, channels: int) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, channels, 320, 320])

    nodes = [
        constant("two", 2.0), constant("half", 0.5),
        helper.make_node("Mul", ["two", "half"], ["offset"]),
        helper.make_node("Add", ["input", "offset"], ["shifted"]),
        helper.make_node("ReduceMax", ["shifted"], ["answer"], keepdims=1, axes=[1]),
    ]
    graph = helper.make_graph(nodes, "foldable", [tensor("input", 3)], [tensor("answer", 1)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model


def test_a_variants_level_threads_and_config_reach_the_session_it_runs_in(tmp_path):
    # Given a variant that asks for basic optimisation, one thread and a kernel option
    spec = _variant(tmp_path, optimisation="basic", threads=1, config={QUANT_KEY: "1"})
    # When the engine builds its model
    model = SegmentationModel(spec)
    # Then ONNX Runtime was given exactly that, for small and large pictures alike
    given = model.session.get_session_options()
    assert given.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert given.intra_op_num_threads == 1
    assert given.get_session_config_entry(QUANT_KEY) == "1"
    assert model.lean_session is model.session


def test_without_a_session_field_small_pictures_get_all_and_large_ones_extended(tmp_path):
    # Given a variant with no session field
    spec = _variant(tmp_path)
    # When the engine builds its model
    model = SegmentationModel(spec, threads=1)
    # Then the fast session is fully optimised and the lean one stops at extended
    levels = ort.GraphOptimizationLevel
    assert model.session.get_session_options().graph_optimization_level == levels.ORT_ENABLE_ALL
    lean = model.lean_session.get_session_options()
    assert lean.graph_optimization_level == levels.ORT_ENABLE_EXTENDED
    assert model.lean_session is not model.session


@pytest.mark.parametrize(("level", "folded"), [("disabled", False), ("basic", True)])
def test_the_optimisation_level_changes_the_graph_that_runs(tmp_path, level, folded):
    # Given a graph whose Mul of two constants constant folding removes
    spec = _variant(tmp_path, _foldable_graph(), optimisation=level)
    options = session_options(spec, threads=1, lean=False)
    saved = tmp_path / "optimised.onnx"
    options.optimized_model_filepath = str(saved)
    # When ONNX Runtime builds a session with the variant's options
    ort.InferenceSession(spec.verified_bytes(), options, providers=["CPUExecutionProvider"])
    # Then the graph it runs lost that Mul only where the variant asked for optimisation
    kinds = {node.op_type for node in onnx.load(saved).graph.node}
    assert ("Mul" not in kinds) is folded
    assert "Add" in kinds


def test_a_thread_setting_wins_over_the_variants_threads(tmp_path):
    # Given a variant that asks for 2 threads
    spec = _variant(tmp_path, threads=2)
    # When the deployment sets 1 (CUTOUT_INFERENCE_THREADS) / sets nothing
    # Then the setting wins, and otherwise the variant's count is used
    assert SegmentationModel(spec, threads=1).threads == 1
    assert SegmentationModel(spec).threads == 2


@pytest.mark.parametrize(("session", "field"), [
    ({"optimisation": "fastest"}, "session.optimisation"),
    ({"threads": -1}, "session.threads"),
    ({"threads": 1.5}, "session.threads"),
    ({"config": {"ep.cuda.use_arena": "1"}}, "session.config"),
    ({"config": {QUANT_KEY: 1}}, "session.config"),
    ({"kernels": "int8"}, "session"),
])
def test_a_malformed_session_field_is_refused_naming_it(tmp_path, session, field):
    # Given a manifest entry whose session field is wrong
    write_model(tmp_path, "variant", family_graph(U2NET), family="u2net", session=session)
    # When the registry is read / Then the refusal names the model and the field
    with pytest.raises(ModelError, match=f"'variant': manifest field '{field}'"):
        model_spec("variant", tmp_path)


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_cold_init_builds_one_session_and_the_first_large_picture_the_other(tmp_path):
    # Given a variant with no session field, in an engine of its own
    write_model(tmp_path, "variant", family_graph(U2NET), family="u2net")
    engine = Engine.create("variant", threads=1, model_dir=tmp_path)
    # Then init built only the fast session
    assert not engine.model.lean_started
    # When a small picture is cut out, still only that one
    engine.remove(_jpeg(640, 480))
    assert not engine.model.lean_started
    # When a large one is, its header starts the lean build, which the picture then runs in
    engine.remove(_jpeg(2400, 1700))
    assert engine.model.lean_started
    assert engine.model.lean_session is not engine.model.session


def test_a_model_file_changed_after_init_is_refused_when_the_large_session_is_built(tmp_path):
    # Given an engine whose model file is replaced after init (the lean build reads it again)
    path = write_model(tmp_path, "variant", family_graph(U2NET), family="u2net")
    engine = Engine.create("variant", threads=1, model_dir=tmp_path)
    path.write_bytes(path.read_bytes() + b"\0")
    # When a large picture arrives, Then the changed file is refused as the model's fault
    with pytest.raises(ModelError, match="does not match its manifest checksum"):
        engine.remove(_jpeg(2400, 1700))
    # and small pictures, which never read the file again, still run
    assert engine.remove(_jpeg(640, 480)).content_type == "image/png"
