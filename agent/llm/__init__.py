"""The LLM agent: Qwen2.5-VL (served by vLLM) calling the shop tools, with guardrails on what it says."""
