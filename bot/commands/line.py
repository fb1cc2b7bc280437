"""`salesbot line richmenu install [--image FILE] | status | remove`: the shop's default rich menu.

Talks to LINE with the service's own settings (LINE_CHANNEL_ACCESS_TOKEN; LINE_API_BASE_URL for the
simulator). `install` creates the menu, uploads the picture, makes it the default, then deletes the
shop's older menus, so a failed install leaves the previous menu in place.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from bot import richmenu
from shop.settings import load_settings
from webhooks.line_api import LineApi, LineApiError


def install(api: LineApi, image: bytes | None = None) -> str:
    """Create, upload, set as default; returns the new rich menu's ID. `image`: the shop's own picture."""
    if image is None:
        image = richmenu.draw_default_image()
    content_type, width, height = richmenu.check_image(image)
    previous = [menu["richMenuId"] for menu in api.rich_menus() if menu.get("name") == richmenu.MENU_NAME]
    rich_menu_id = api.create_rich_menu(richmenu.menu_request(width, height))
    try:
        api.set_rich_menu_image(rich_menu_id, image, content_type)
        api.set_default_rich_menu(rich_menu_id)
    except LineApiError:
        api.delete_rich_menu(rich_menu_id)   # never leave a half-made menu behind
        raise
    for old in previous:
        api.delete_rich_menu(old)
    return rich_menu_id


def status(api: LineApi) -> dict:
    default = api.default_rich_menu_id()
    menus = api.rich_menus()
    return {"default": default, "menus": [{"richMenuId": m["richMenuId"], "name": m.get("name"),
                                           "chatBarText": m.get("chatBarText"), "areas": len(m.get("areas") or []),
                                           "default": m["richMenuId"] == default} for m in menus]}


def remove(api: LineApi) -> list[str]:
    """Take the shop's menu off every chat and delete it (other menus of the channel are left alone)."""
    ours = [menu["richMenuId"] for menu in api.rich_menus() if menu.get("name") == richmenu.MENU_NAME]
    if api.default_rich_menu_id() in ours:
        api.cancel_default_rich_menu()
    for rich_menu_id in ours:
        api.delete_rich_menu(rich_menu_id)
    return ours


def _api() -> LineApi:
    settings = load_settings()
    if not settings.line_channel_access_token.get_secret_value():
        raise click.ClickException("LINE_CHANNEL_ACCESS_TOKEN is not set")
    return LineApi(settings)


@click.group()
def line() -> None:
    """LINE Official Account features (the rich menu)."""


@line.group("richmenu")
def richmenu_group() -> None:
    """The default rich menu under the chat: แนะนำเกม, ค้นหาเกม, ตะกร้า, สถานะคำสั่งซื้อ, โปรโมชัน, คุยกับแอดมิน."""


@richmenu_group.command("install")
@click.option("--image", "image_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The shop's own picture: JPEG or PNG, 2500×1686 or 2500×843, at most 1 MB.")
def install_command(image_path: Path | None) -> None:
    """Create the rich menu, upload its picture and make it every chat's default."""
    image = image_path.read_bytes() if image_path else None
    try:
        rich_menu_id = install(_api(), image)
    except richmenu.RichMenuImageError as error:
        raise click.ClickException(str(error)) from None
    except LineApiError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"rich menu {rich_menu_id} installed and set as the default")


@richmenu_group.command("status")
def status_command() -> None:
    """The default rich menu and the channel's rich menus, as JSON."""
    try:
        click.echo(json.dumps(status(_api()), ensure_ascii=False, indent=2))
    except LineApiError as error:
        raise click.ClickException(str(error)) from None


@richmenu_group.command("remove")
def remove_command() -> None:
    """Remove the shop's rich menu from every chat and delete it."""
    try:
        removed = remove(_api())
    except LineApiError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"removed {len(removed)} rich menu(s)" + (": " + ", ".join(removed) if removed else ""))
