"""`salesbot inference`: run Qwen2.5-VL on vLLM, and check a running server."""
from __future__ import annotations

import sys

import click

from inference.images import DEFAULT_MAX_VISUAL_TOKENS


@click.group()
def inference() -> None:
    """Qwen2.5-VL on vLLM: the serve recipe and a health check."""


@inference.command(context_settings={"ignore_unknown_options": True})
@click.option("--model", default="7b", show_default=True,
              help="7b (bf16, one 24 GB+ GPU), 72b-awq (one 80 GB GPU) or a Hugging Face model id.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--tool-mode", type=click.Choice(["prompt", "native"]), default="prompt", show_default=True,
              help="native adds vLLM's hermes tool parser and the tool-aware chat template (LLM_TOOL_MODE=native).")
@click.option("--max-visual-tokens", default=DEFAULT_MAX_VISUAL_TOKENS, show_default=True,
              type=click.IntRange(4, 16384), help="Server-side pixel bound per image, in visual tokens.")
@click.option("--dry-run", is_flag=True, help="Print the command instead of running it.")
@click.argument("extra", nargs=-1, type=click.UNPROCESSED)
def serve(model: str, host: str, port: int, tool_mode: str, max_visual_tokens: int, dry_run: bool,
          extra: tuple[str, ...]) -> None:
    """Start `vllm serve` with the recommended settings; arguments after `--` go to vLLM unchanged."""
    from inference.serve import build_serve_command, exec_serve, format_command, resolve_profile

    try:
        profile = resolve_profile(model)
        argv = build_serve_command(profile, host=host, port=port, tool_mode=tool_mode,
                                   max_visual_tokens=max_visual_tokens, extra_args=extra)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    click.echo(f"# {profile.model}: {profile.gpu}", err=dry_run is False)
    if dry_run:
        click.echo(format_command(argv))
        return
    click.echo(format_command(argv), err=True)
    try:
        exec_serve(argv)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None


@inference.command()
@click.option("--base-url", envvar="LLM_BASE_URL", required=True, help="OpenAI-compatible root (LLM_BASE_URL).")
@click.option("--model", envvar="LLM_MODEL", default="Qwen/Qwen2.5-VL-7B-Instruct", show_default=True)
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(min=0.1))
def health(base_url: str, model: str, timeout: float) -> None:
    """GET /v1/models on a running server; exit status 1 when it is down or does not serve the model."""
    from inference.client import ChatClient

    client = ChatClient(base_url, model, timeout_s=timeout)
    try:
        healthy = client.health()
        detail = client.status()
    finally:
        client.close()
    if healthy:
        click.echo(f"ok: {client.api_root} serves {model}")
        return
    click.echo(f"down: {detail.get('last_error')}", err=True)
    sys.exit(1)
