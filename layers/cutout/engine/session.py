"""One model, two ONNX Runtime sessions per process, created once from a verified model file.

Requests never change a session: each is built once (the lean one when the first large
picture arrives) and used read-only.

Speed and memory (measured on u2netp, 2 vCPUs; figures in docs/engine.md): the `ALL`
optimisation level's NCHWc layout is what makes ONNX Runtime's defaults ~20 % faster than
`EXTENDED`, and its reordered copies are what its extra ~85 MB at peak are. So a picture
below `LARGE_IMAGE_PIXELS` runs in the fast session (ALL), whose activations (~300 MB)
stay in the arena between runs; a larger picture, whose full-size decode, compose and
encode need the room, runs in the lean session (EXTENDED, ~210 MB), and its run gives the
arena back at its end, before the full-size picture is decoded. Both draw on one arena that
grows by exactly what is asked for (the default grows by powers of two and, with the
memory-pattern planner, keeps ~470-620 MB); without any arena every run page-faults its
activations anew (~45 % slower).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future

import numpy as np
import onnxruntime as ort
from PIL import Image

from cutout.engine.models import ModelSpec
from cutout.engine.resampling import resize_mask, resize_picture
from cutout.engine.side_thread import side_pool
from cutout.errors import ModelError
from cutout.numbers import parse_count

LAMBDA_CPU_CREDIT_MB = 1769  # Lambda grants one vCPU of credit per 1,769 MB of memory


def default_thread_count() -> int:
    """Threads matched to the CPU credit, not to the visible core count."""
    visible = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    memory_mb = parse_count(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
    if memory_mb is not None:
        return max(1, min(visible, round(memory_mb / LAMBDA_CPU_CREDIT_MB)))
    return max(1, visible)


_arena_lock = threading.Lock()
_arena_state: list[bool] = []  # [registered?] once decided for the process


def _exact_arena_registered() -> bool:
    """Register, once per process, a CPU arena that grows by exactly what is requested.

    It lives in ONNX Runtime's process-wide environment (not request state). Should the
    registration be refused (another component registered one), sessions run without
    an arena: slower, never wrong.
    """
    with _arena_lock:
        if not _arena_state:
            memory = ort.OrtMemoryInfo(
                "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
            )
            try:
                # max_mem 0 (no cap), extend strategy 1 = kSameAsRequested, defaults otherwise
                ort.create_and_register_allocator(memory, ort.OrtArenaCfg(0, 1, -1, -1))
                _arena_state.append(True)
            except Exception:  # noqa: BLE001 - onnxruntime raises its own untyped errors
                _arena_state.append(False)
        return _arena_state[0]


_LEVELS = {
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def session_options(spec: ModelSpec, threads: int, lean: bool) -> ort.SessionOptions:
    """Every session option, in one place: the fast session's, or the lean one's (`lean`),
    with what the model's manifest entry asks for its variant (`session`) applied last."""
    options = ort.SessionOptions()
    # ALL adds NCHWc layout transforms: ~20 % faster runs on u2netp, whose reordered copies
    # of the activations cost ~85 MB more at peak; the lean session stops at EXTENDED.
    level = spec.session.optimisation or ("extended" if lean else "all")
    options.graph_optimization_level = _LEVELS[level]
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    # No spinning, not even within a run (session.force_spinning_stop would stop it at the
    # run's end): measured on u2netp, spinning between operators gains nothing on a quiet
    # machine and doubles a run's time when anything else wants the CPU, as the helper
    # thread, or Lambda's CPU quota at 1.7 vCPU, does.
    config = {"session.intra_op.allow_spinning": "0"}
    # The memory-pattern planner pre-allocates one block for the whole run's activations
    # (measured: 620 MB with ALL, against ~300 MB without it) for no measurable speed.
    options.enable_mem_pattern = False
    options.enable_cpu_mem_arena = _exact_arena_registered()
    if options.enable_cpu_mem_arena:
        config["session.use_env_allocators"] = "1"
    config.update(spec.session.config)
    for key, value in config.items():
        options.add_session_config_entry(key, value)
    return options


def _session(model: bytes, options: ort.SessionOptions) -> ort.InferenceSession:
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _lean_session(spec: ModelSpec, threads: int) -> ort.InferenceSession:
    return _session(spec.verified_bytes(), session_options(spec, threads, lean=True))


class SegmentationModel:
    """A salient-object segmentation model: RGB image in, 8-bit mask at model size out."""

    def __init__(self, spec: ModelSpec, threads: int = 0) -> None:
        self.spec = spec
        self.threads = threads or spec.session.threads or default_thread_count()
        self.session = _session(spec.verified_bytes(),
                                session_options(spec, self.threads, lean=False))
        check_graph(spec, self.session)
        # A variant that names its optimisation level runs every picture in this session.
        # Otherwise the lean session is built on the helper thread when the first large
        # picture's header has been read (`prepare_lean`), beside its decode: cold init
        # builds one session, and a process that only sees small pictures never builds two.
        self._lean: Future[ort.InferenceSession] | None = None
        self._lean_lock = threading.Lock()
        self.input_name = self.session.get_inputs()[0].name
        # A reduced decode stays 4x above the model input: at 2x the JPEG decoder's own
        # downscaling shifted thin subjects' masks (IoU 0.96 vs rembg); at 4x it matches.
        self.draft_size = (spec.input_size[0] * 4, spec.input_size[1] * 4)
        self._mean = np.asarray(spec.mean, dtype=np.float32)
        self._std = np.asarray(spec.std, dtype=np.float32)
        self._lock = threading.Lock()  # one inference at a time: threads are already in use
        self._release = ort.RunOptions()
        if _exact_arena_registered():
            self._release.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def prepare_lean(self) -> Future[ort.InferenceSession] | None:
        """Start building the session for large pictures, once, on the helper thread.

        The file is read and verified again rather than kept: its bytes (up to ~170 MB for
        the largest family) would otherwise stay in memory for a build that may never come.
        Built during a request, not at init: on the helper thread its parse holds the GIL
        for ~25 ms, which at init delayed `Engine.create()` by as much.
        """
        if self.spec.session.optimisation:
            return None
        with self._lean_lock:
            if self._lean is None:  # any failure of the build surfaces from `lean_session`
                self._lean = side_pool().submit(_lean_session, self.spec, self.threads)
            return self._lean

    @property
    def lean_started(self) -> bool:
        """Whether the session for large pictures has been asked for yet."""
        return self._lean is not None

    @property
    def lean_session(self) -> ort.InferenceSession:
        """The session for large pictures (built, or waited for, on first use)."""
        building = self.prepare_lean()
        return self.session if building is None else building.result()

    def preprocess(self, rgb: Image.Image) -> np.ndarray:
        """Resize and normalise as the family's reference pipeline does, vectorised."""
        pixels = resize_picture(rgb, self.spec.input_size, self.spec.resize_in)
        if self.spec.input_scale == "image_max":
            peak = float(pixels.max())
            pixels /= peak if peak > 0 else 1.0
        else:
            pixels /= 255.0
        if self.spec.colour_order == "BGR":
            pixels = pixels[..., ::-1]  # mean and std are listed in the model's own order
        pixels -= self._mean
        pixels /= self._std
        return np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])

    def infer(self, tensor: np.ndarray, release_memory: bool = False) -> np.ndarray:
        """Run the network; the prediction (after the family's activation) as 0..255,
        min-max normalised or scaled as the family's reference does.

        `release_memory` (a large picture): the lean session, and the arena's memory given
        back at the end of the run.
        """
        with self._lock:
            if release_memory:
                outputs = self.lean_session.run(None, {self.input_name: tensor}, self._release)
            else:
                outputs = self.session.run(None, {self.input_name: tensor})
        prediction = _plane(outputs[self.spec.output_index])
        if self.spec.activation == "sigmoid":
            prediction = 1.0 / (1.0 + np.exp(-prediction))
        if self.spec.output_normalisation == "none":  # x255 and truncated, as ToPILImage
            return (np.clip(prediction, 0.0, 1.0) * 255.0).astype(np.uint8)
        low, high = float(prediction.min()), float(prediction.max())
        scale = (high - low) or 1.0
        return ((prediction - low) / scale * 255.0).astype(np.uint8)

    def mask_at(self, small_mask: np.ndarray, size: tuple[int, int]) -> Image.Image:
        """The model-size mask at output `size`, resized with the reference's kernel."""
        return resize_mask(small_mask, size, self.spec.resize_out)

    def predict(self, rgb: Image.Image, release_memory: bool = False) -> np.ndarray:
        """Mask at the model's input size (uint8, 0 = background, 255 = subject)."""
        return self.infer(self.preprocess(rgb), release_memory)


def _plane(output: np.ndarray) -> np.ndarray:
    """Channel 0 of the first item: (1, C, H, W), (1, H, W) or (H, W) -> (H, W)."""
    while output.ndim > 2:
        output = output[0]
    return output


def check_graph(spec: ModelSpec, session: ort.InferenceSession) -> None:
    """Refuse a file whose input or outputs contradict its manifest entry and family."""
    shape = list(session.get_inputs()[0].shape)
    text = "x".join(str(d) for d in shape)
    width, height = spec.input_size
    where = f"model {spec.name!r} (family {spec.family})"
    if len(shape) != 4:
        raise ModelError(f"{where}: the ONNX input is {text}, not N x 3 x height x width")
    fixed = [d if isinstance(d, int) and d > 0 else None for d in shape]
    if fixed[1] not in (None, 3):
        raise ModelError(f"{where}: the ONNX input is {text}, it must take 3 colour channels")
    if fixed[2] not in (None, height) or fixed[3] not in (None, width):
        raise ModelError(
            f"{where}: the ONNX input is {text}, which contradicts manifest field "
            f"'input_size' {width}x{height}"
        )
    outputs = len(session.get_outputs())
    if spec.output_index >= outputs:
        raise ModelError(
            f"{where}: manifest field 'output_index' is {spec.output_index} but the ONNX "
            f"file has {outputs} output(s)"
        )
