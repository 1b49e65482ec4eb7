"""One ONNX Runtime session per process, created once from a verified model file.

Requests never change the session: it is built at init and used read-only.

Memory (measured on u2netp, 2 vCPUs; figures in the README): the activations of one run
peak near 210 MB. ONNX Runtime's default arena grows by powers of two and, with its
memory-pattern planner, keeps ~470 MB; without any arena every run page-faults its
activations anew (~45 % slower). So the session uses an arena that grows by exactly what
is asked for (~210 MB, kept between runs: fast), and a run for a large image gives that
memory back at its end, before the full-size picture is decoded, composed and encoded.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import onnxruntime as ort
from PIL import Image

from cutout.engine.models import ModelSpec
from cutout.engine.resampling import resize_mask, resize_picture
from cutout.errors import ModelError

LAMBDA_CPU_CREDIT_MB = 1769  # Lambda grants one vCPU of credit per 1,769 MB of memory


def default_thread_count() -> int:
    """Threads matched to the CPU credit, not to the visible core count."""
    visible = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    memory_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if memory_mb and memory_mb.isdigit():
        return max(1, min(visible, round(int(memory_mb) / LAMBDA_CPU_CREDIT_MB)))
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


class SegmentationModel:
    """A salient-object segmentation model: RGB image in, 8-bit mask at model size out."""

    def __init__(self, spec: ModelSpec, threads: int = 0) -> None:
        self.spec = spec
        options = ort.SessionOptions()
        # EXTENDED, not ALL: ALL adds NCHWc layout transforms that hold reordered copies of
        # the activations (+75 MB peak measured on u2netp).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.intra_op_num_threads = threads or default_thread_count()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # Idle ORT threads would otherwise spin after each run and steal the CPU credit
        # that decoding and PNG encoding need right after inference.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.enable_mem_pattern = False
        options.enable_cpu_mem_arena = _exact_arena_registered()
        if options.enable_cpu_mem_arena:
            options.add_session_config_entry("session.use_env_allocators", "1")
        self.session = ort.InferenceSession(
            spec.verified_bytes(), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        check_graph(spec, self.session)
        self.threads = options.intra_op_num_threads
        # A reduced decode stays 4x above the model input: at 2x the JPEG decoder's own
        # downscaling shifted thin subjects' masks (IoU 0.96 vs rembg); at 4x it matches.
        self.draft_size = (spec.input_size[0] * 4, spec.input_size[1] * 4)
        self._mean = np.asarray(spec.mean, dtype=np.float32)
        self._std = np.asarray(spec.std, dtype=np.float32)
        self._lock = threading.Lock()  # one inference at a time: threads are already in use
        self._release = ort.RunOptions()
        self._release.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

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

        `release_memory` returns the activations' arena memory at the end of the run.
        """
        with self._lock:
            run_options = self._release if release_memory else None
            outputs = self.session.run(None, {self.input_name: tensor}, run_options)
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
