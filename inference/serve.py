"""The recommended `vllm serve` command for Qwen2.5-VL, per model size.

Sources: Qwen2.5-VL README, the vLLM recipe for Qwen2.5-VL and vLLM's `MultiModalConfig`
(see docs/llm.md). The command is built as an argv list, so it can be printed (`--dry-run`),
tested, and executed without a shell.
"""
from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from inference.images import DEFAULT_MAX_VISUAL_TOKENS, IMAGE_FACTOR, MIN_PIXELS

TEMPLATE_PATH = Path(__file__).resolve().parent / "templates" / "qwen25vl_tools.jinja"


@dataclass(frozen=True)
class ServeProfile:
    key: str
    model: str
    gpu: str                       # what it needs, for people choosing hardware
    dtype: str | None              # None: let vLLM read it from the checkpoint
    quantization: str | None
    max_model_len: int = 32768     # Qwen2.5-VL config.json; YaRN beyond 32K hurts localisation
    gpu_memory_utilization: float = 0.90
    images_per_prompt: int = 2     # one customer photo per turn, with room for one more


PROFILES: dict[str, ServeProfile] = {
    "7b": ServeProfile(key="7b", model="Qwen/Qwen2.5-VL-7B-Instruct", gpu="one 24 GB+ GPU (bf16, ~17 GB minimum)",
                       dtype="bfloat16", quantization=None),
    # awq_marlin: the fast AWQ kernel on Ampere and newer (every 80 GB card); plain `awq` is much slower.
    "72b-awq": ServeProfile(key="72b-awq", model="Qwen/Qwen2.5-VL-72B-Instruct-AWQ",
                            gpu="one 80 GB GPU (A100/H100; AWQ int4, ~43 GB of weights)",
                            dtype=None, quantization="awq_marlin"),
}


# Qwen2.5-VL sizes (parameters, billions, from the model cards) and what their weights take: bf16 two
# bytes a parameter; AWQ int4 about half a byte for the language model, the ~0.7 B vision tower in bf16.
MODEL_SIZES_B = {"3b": 3.8, "7b": 8.3, "32b": 33.5, "72b": 73.4}
VISION_TOWER_B = 0.7
GPU_SIZES_GB = (16, 24, 48, 80)
KV_AND_ACTIVATIONS_GB = 4   # the least room left for the KV cache, CUDA graphs and the image encoder


def _size_key(model_id: str) -> str | None:
    match = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)b(?![a-z])", model_id.lower())
    if match is None:
        return None
    key = f"{match.group(1)}b"
    return key if key in MODEL_SIZES_B else None


def weights_gb(size_key: str, quantized: bool) -> float:
    params = MODEL_SIZES_B[size_key]
    if quantized:
        return (params - VISION_TOWER_B) * 0.5 * 1.07 + VISION_TOWER_B * 2   # 4-bit + scales, bf16 tower
    return params * 2


def gpu_note(size_key: str | None, quantization: str | None) -> str:
    """What the model needs, for people choosing hardware."""
    if size_key is None:
        return "size unknown from the model id: check the model card for the weights' size"
    weights = weights_gb(size_key, quantization is not None)
    needed = weights + KV_AND_ACTIVATIONS_GB
    kind = "AWQ int4" if quantization else "bf16"
    fitting = next((gb for gb in GPU_SIZES_GB if gb * 0.9 >= needed), None)
    if fitting is None:
        cards = math.ceil(needed / (80 * 0.9))
        return (f"{cards}+ 80 GB GPUs with --tensor-parallel-size {2 ** math.ceil(math.log2(cards))} "
                f"({kind}, ~{weights:.0f} GB of weights)")
    return f"one {fitting} GB+ GPU ({kind}, ~{weights:.0f} GB of weights)"


def resolve_profile(model: str) -> ServeProfile:
    """`7b`, `72b-awq`, or a Hugging Face id: its size and quantization read from the id decide the dtype,
    `--quantization` and the GPU note; the rest follows the presets."""
    key = model.strip().lower()
    if key in PROFILES:
        return PROFILES[key]
    if "/" not in model:
        raise ValueError(f"unknown model {model!r}: use 7b, 72b-awq or a Hugging Face id like Qwen/...")
    awq = "awq" in key
    quantization = "awq_marlin" if awq else None
    # GPTQ, FP8 and other quantized checkpoints carry their settings in config.json: let vLLM read them.
    other_quantized = any(mark in key for mark in ("gptq", "fp8", "int4", "int8", "gguf", "bnb"))
    dtype = None if (awq or other_quantized) else "bfloat16"
    size_key = _size_key(model)
    note = gpu_note(size_key, quantization) if not other_quantized else (
        "quantized checkpoint: vLLM reads the method from its config; see the model card for the size")
    return ServeProfile(key="custom", model=model, gpu=note, dtype=dtype, quantization=quantization)


def profiling_image_size(max_visual_tokens: int) -> tuple[int, int]:
    """A square at least as large as the token budget, for vLLM's memory profiling.

    The processor's `max_pixels` then brings it down to the budget, so profiling sees our worst case
    instead of vLLM's default 16,384-token image.
    """
    side = math.ceil(math.sqrt(max_visual_tokens)) * IMAGE_FACTOR
    return side, side


def build_serve_command(profile: ServeProfile, *, host: str = "127.0.0.1", port: int = 8000,
                        tool_mode: str = "prompt", max_visual_tokens: int = DEFAULT_MAX_VISUAL_TOKENS,
                        chat_template: Path = TEMPLATE_PATH, extra_args: tuple[str, ...] = ()) -> list[str]:
    """argv for `vllm serve`. `tool_mode="native"` adds vLLM's hermes tool parser and our template."""
    if tool_mode not in ("prompt", "native"):
        raise ValueError("tool_mode must be 'prompt' or 'native'")
    if not 1 <= port <= 65535:
        raise ValueError("port must be between 1 and 65535")
    width, height = profiling_image_size(max_visual_tokens)
    limit = {"image": {"count": profile.images_per_prompt, "width": width, "height": height}, "video": 0}
    pixels = {"min_pixels": MIN_PIXELS, "max_pixels": max_visual_tokens * IMAGE_FACTOR ** 2}
    argv = ["vllm", "serve", profile.model, "--host", host, "--port", str(port)]
    if profile.dtype:
        argv += ["--dtype", profile.dtype]
    if profile.quantization:
        argv += ["--quantization", profile.quantization]
    argv += [
        "--max-model-len", str(profile.max_model_len),
        "--gpu-memory-utilization", f"{profile.gpu_memory_utilization:.2f}",
        "--limit-mm-per-prompt", json.dumps(limit, separators=(",", ":")),
        "--mm-processor-kwargs", json.dumps(pixels, separators=(",", ":")),
        # The bot sends OpenAI content lists (image part + text part); pinning the format keeps vLLM
        # from guessing it from the template (its auto-detection is fragile).
        "--chat-template-content-format", "openai",
    ]
    if tool_mode == "native":
        argv += ["--enable-auto-tool-choice", "--tool-call-parser", "hermes", "--chat-template", str(chat_template)]
    return argv + list(extra_args)


def format_command(argv: list[str]) -> str:
    """The command as one shell line a person can copy."""
    return shlex.join(argv)


def exec_serve(argv: list[str]) -> None:
    """Replace this process with vLLM. Raises RuntimeError when vLLM is not installed."""
    executable = shutil.which(argv[0])
    if executable is None:
        raise RuntimeError("vllm is not installed here: pip install '.[gpu]' on the GPU machine, "
                           "or run with --dry-run to print the command")
    os.execv(executable, argv)


__all__ = ["ServeProfile", "PROFILES", "TEMPLATE_PATH", "resolve_profile", "build_serve_command",
           "profiling_image_size", "format_command", "exec_serve"]
