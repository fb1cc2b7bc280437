"""The `vllm serve` recipe, the `salesbot inference` CLI and the tool-aware chat template."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from jinja2.sandbox import ImmutableSandboxedEnvironment

from inference import serve as serve_module
from inference.cli import inference
from inference.serve import PROFILES, TEMPLATE_PATH, build_serve_command, resolve_profile


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_7b_command_on_one_gpu():
    argv = build_serve_command(PROFILES["7b"])
    assert argv[:3] == ["vllm", "serve", "Qwen/Qwen2.5-VL-7B-Instruct"]
    assert _flag(argv, "--dtype") == "bfloat16"
    assert "--quantization" not in argv and "--tensor-parallel-size" not in argv
    assert _flag(argv, "--max-model-len") == "32768"
    assert 0.5 < float(_flag(argv, "--gpu-memory-utilization")) <= 0.95
    limit = json.loads(_flag(argv, "--limit-mm-per-prompt"))
    assert limit["video"] == 0 and limit["image"]["count"] >= 1
    pixels = json.loads(_flag(argv, "--mm-processor-kwargs"))
    assert pixels == {"min_pixels": 3136, "max_pixels": 1280 * 28 * 28}
    # the profiling image is at least the budget, so vLLM does not profile a 16,384-token image
    assert limit["image"]["width"] * limit["image"]["height"] >= pixels["max_pixels"]
    assert "--enable-auto-tool-choice" not in argv  # prompt mode needs no server-side tool parsing
    assert _flag(argv, "--chat-template-content-format") == "openai"   # pinned, in both tool modes
    assert _flag(build_serve_command(PROFILES["7b"], tool_mode="native"), "--chat-template-content-format") == "openai"


def test_72b_awq_uses_the_marlin_awq_kernel_on_one_gpu():
    argv = build_serve_command(PROFILES["72b-awq"], port=9000)
    assert argv[2] == "Qwen/Qwen2.5-VL-72B-Instruct-AWQ"
    assert _flag(argv, "--quantization") == "awq_marlin"
    assert "--dtype" not in argv
    assert _flag(argv, "--port") == "9000"


def test_native_tool_mode_adds_the_hermes_parser_and_our_template():
    argv = build_serve_command(PROFILES["7b"], tool_mode="native")
    assert "--enable-auto-tool-choice" in argv
    assert _flag(argv, "--tool-call-parser") == "hermes"
    assert _flag(argv, "--chat-template") == str(TEMPLATE_PATH) and TEMPLATE_PATH.is_file()


def test_visual_token_budget_sets_the_pixel_bound():
    argv = build_serve_command(PROFILES["7b"], max_visual_tokens=512)
    assert json.loads(_flag(argv, "--mm-processor-kwargs"))["max_pixels"] == 512 * 784


def test_hugging_face_ids_map_to_a_profile():
    assert resolve_profile("Qwen/Qwen2.5-VL-72B-Instruct-AWQ").quantization == "awq_marlin"
    custom = resolve_profile("my-org/Qwen2.5-VL-7B-Thai")
    assert custom.model == "my-org/Qwen2.5-VL-7B-Thai" and custom.dtype == "bfloat16"
    with pytest.raises(ValueError, match="unknown model"):
        resolve_profile("huge")


@pytest.mark.parametrize("model,dtype,quantization,gpu", [
    ("Qwen/Qwen2.5-VL-72B-Instruct", "bfloat16", None, "80 GB GPUs with --tensor-parallel-size 4"),
    ("Qwen/Qwen2.5-VL-72B-Instruct-AWQ", None, "awq_marlin", "one 80 GB+ GPU"),
    ("Qwen/Qwen2.5-VL-32B-Instruct", "bfloat16", None, "one 80 GB+ GPU"),
    ("Qwen/Qwen2.5-VL-32B-Instruct-AWQ", None, "awq_marlin", "one 48 GB+ GPU"),   # ~19 GB + room: not 24
    ("Qwen/Qwen2.5-VL-7B-Instruct", "bfloat16", None, "one 24 GB+ GPU"),
    ("Qwen/Qwen2.5-VL-3B-Instruct", "bfloat16", None, "one 16 GB+ GPU"),
    ("my-org/Qwen2.5-VL-7B-Instruct-GPTQ-Int4", None, None, "quantized checkpoint"),
])
def test_custom_ids_get_dtype_quantization_and_gpu_note_from_their_size(model, dtype, quantization, gpu):
    profile = resolve_profile(model)
    assert (profile.dtype, profile.quantization) == (dtype, quantization)
    assert gpu in profile.gpu, profile.gpu
    assert "24 GB" not in resolve_profile("Qwen/Qwen2.5-VL-72B-Instruct").gpu


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        build_serve_command(PROFILES["7b"], tool_mode="magic")
    with pytest.raises(ValueError):
        build_serve_command(PROFILES["7b"], port=0)


def test_cli_dry_run_prints_the_command():
    result = CliRunner().invoke(inference, ["serve", "--model", "72b-awq", "--port", "8100", "--tool-mode",
                                            "native", "--dry-run", "--", "--max-num-seqs", "8"])
    assert result.exit_code == 0, result.output
    command = result.output.strip().splitlines()[-1]
    assert command.startswith("vllm serve Qwen/Qwen2.5-VL-72B-Instruct-AWQ")
    assert "--port 8100" in command and "--tool-call-parser hermes" in command
    assert command.endswith("--max-num-seqs 8")
    assert "'{\"image\":{\"count\":2" in command   # JSON quoted for the shell


def test_cli_without_vllm_installed_says_what_to_do(monkeypatch):
    monkeypatch.setattr(serve_module.shutil, "which", lambda name: None)
    result = CliRunner().invoke(inference, ["serve"])
    assert result.exit_code == 1
    assert "pip install '.[gpu]'" in result.output


def test_cli_unknown_model_is_a_usage_error():
    result = CliRunner().invoke(inference, ["serve", "--model", "gpt", "--dry-run"])
    assert result.exit_code == 2 and "unknown model" in result.output


def test_cli_health_against_the_fake_server():
    from fake_vllm_server import FakeVLLMServer

    with FakeVLLMServer() as server:
        ok = CliRunner().invoke(inference, ["health", "--base-url", server.base_url, "--model", server.model])
        down = CliRunner().invoke(inference, ["health", "--base-url", server.base_url, "--model", "x/y"])
    assert ok.exit_code == 0 and "ok:" in ok.output
    assert down.exit_code == 1 and "not served" in down.output


# -- the chat template, rendered the way vLLM/transformers render it ---------------------------------
def _render(**context) -> str:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda value, **_: json.dumps(value, ensure_ascii=False)
    return env.from_string(TEMPLATE_PATH.read_text(encoding="utf-8")).render(**context)


TOOLS = [{"type": "function", "function": {"name": "search_products", "description": "ค้นหาเกม",
                                           "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}]


def test_template_renders_tools_images_calls_and_responses_like_qwen25():
    messages = [
        {"role": "system", "content": "คุณคือผู้ช่วยร้านบอร์ดเกม"},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AA"}},
                                     {"type": "text", "text": "เกมนี้มีไหมคะ"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "search_products", "arguments": {"query": "Catan"}}},
            {"id": "b", "type": "function", "function": {"name": "search_products", "arguments": '{"query": "คาทาน"}'}}]},
        {"role": "tool", "tool_call_id": "a", "content": '{"results": []}'},
        {"role": "tool", "tool_call_id": "b", "content": '{"results": [1]}'},
    ]
    text = _render(messages=messages, tools=TOOLS, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nคุณคือผู้ช่วยร้านบอร์ดเกม\n\n# Tools\n")
    assert '<tools>\n{"type": "function", "function": {"name": "search_products"' in text
    assert "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>เกมนี้มีไหมคะ<|im_end|>" in text
    assert ('<tool_call>\n{"name": "search_products", "arguments": {"query": "Catan"}}\n</tool_call>\n'
            '<tool_call>\n{"name": "search_products", "arguments": {"query": "คาทาน"}}\n</tool_call><|im_end|>') in text
    assert ('<|im_start|>user\n<tool_response>\n{"results": []}\n</tool_response>\n<tool_response>\n'
            '{"results": [1]}\n</tool_response><|im_end|>\n') in text
    assert text.endswith("<|im_start|>assistant\n")
    assert text.count("<|im_start|>system") == 1


def test_template_without_tools_is_the_plain_vl_template():
    text = _render(messages=[{"role": "user", "content": "สวัสดีค่ะ"}], add_generation_prompt=True)
    assert text == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    "<|im_start|>user\nสวัสดีค่ะ<|im_end|>\n<|im_start|>assistant\n")
    assert "# Tools" not in text
