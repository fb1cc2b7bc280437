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
@click.option("--max-visual-tokens", envvar="LLM_MAX_VISUAL_TOKENS", default=None, type=click.IntRange(4, 16384),
              help="Also check that the server spends this many tokens on a photo the bot prepared with this "
                   "budget (LLM_MAX_VISUAL_TOKENS): two one-token requests.")
def health(base_url: str, model: str, timeout: float, max_visual_tokens: int | None) -> None:
    """GET /v1/models on a running server; exit status 1 when it is down, does not serve the model, or
    counts a photo's tokens differently from the bot."""
    from inference.client import ChatClient, LLMError

    client = ChatClient(base_url, model, timeout_s=timeout)
    try:
        healthy = client.health()
        detail = client.status()
        if healthy and max_visual_tokens:
            expected, used = _visual_budget_check(client, max_visual_tokens)
    except LLMError as error:
        click.echo(f"down: {error}", err=True)
        sys.exit(1)
    finally:
        client.close()
    if not healthy:
        click.echo(f"down: {detail.get('last_error')}", err=True)
        sys.exit(1)
    click.echo(f"ok: {client.api_root} serves {model}")
    if max_visual_tokens:
        if used != expected:
            click.echo(f"visual tokens differ: the bot prepares photos for {expected} tokens, the server counts "
                       f"{used}. Start the server with `salesbot inference serve --max-visual-tokens "
                       f"{max_visual_tokens}` (its --mm-processor-kwargs max_pixels) or set LLM_MAX_VISUAL_TOKENS "
                       "to match.", err=True)
            sys.exit(1)
        click.echo(f"ok: a prepared photo costs {used} visual tokens on both sides")


def _visual_budget_check(client, max_visual_tokens: int) -> tuple[int, int | None]:
    """(tokens the bot expects, tokens the server spent) for a 12-MP photo prepared at the budget."""
    import io

    from PIL import Image

    from inference.images import prepare_image

    buffer = io.BytesIO()
    Image.new("RGB", (4032, 3024), (90, 120, 60)).save(buffer, format="JPEG", quality=80)
    image = prepare_image(buffer.getvalue(), max_visual_tokens=max_visual_tokens)
    return image.visual_tokens, client.server_visual_tokens(image.content_part())
