"""Talking to vLLM (OpenAI-compatible), image preparation, the `vllm serve` recipe."""
