"""LINE's rules for messages the bot sends, enforced the way the platform enforces them.

A broken rule becomes `LineError` carrying LINE's status and error body:
``{"message": "...", "details": [{"message": ..., "property": ...}]}``. Body-level problems read
"The request body has N error(s)" with ``messages[i].text``-style properties; a Flex message that is
structurally wrong reads "A message (messages[i]) in the request body is invalid" with JSON-pointer
properties inside the container (``/body/contents/0/url``), as the real API answers.
Things LINE rejects but a local run cannot satisfy (HTTPS image URLs) are warnings, not errors.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_URL = 2000
MAX_QUICK_REPLY = 13
MAX_CAROUSEL = 12
MAX_BUBBLE_BYTES = 30 * 1024
MAX_CAROUSEL_BYTES = 50 * 1024
MAX_POSTBACK_DATA = 300
MAX_ACTION_LABEL = 20          # quick-reply and most action labels
MAX_BUTTON_LABEL = 40          # Flex button labels

MESSAGE_TYPES = ["text", "image", "video", "audio", "location", "sticker", "template", "imagemap", "flex"]
ACTION_TYPES = {"postback", "message", "uri", "datetimepicker", "camera", "cameraRoll", "location",
                "richmenuswitch", "clipboard"}
COMPONENT_TYPES = {"box", "button", "image", "video", "icon", "text", "span", "separator", "filler", "spacer"}
BASELINE_CHILDREN = {"text", "icon", "filler", "spacer"}
BOX_LAYOUTS = {"vertical", "horizontal", "baseline"}
BUBBLE_BLOCKS = ("header", "hero", "body", "footer")
URI_SCHEMES = ("http://", "https://", "line://", "tel:", "mailto:")


class LineError(Exception):
    """A request LINE would refuse: `status` and `body` are what LINE answers."""

    def __init__(self, status: int, message: str, details: list[dict] | None = None,
                 extra: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"message": message}
        if details:
            self.body["details"] = details
        if extra:
            self.body.update(extra)
        self.headers = headers or {}


def utf16_length(text: str) -> int:
    """LINE counts text in UTF-16 code units: an emoji outside the BMP counts 2."""
    return len(text.encode("utf-16-le")) // 2


def compact_size(value) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


@dataclass
class Report:
    """What checking one request found."""
    body_errors: list[dict] = field(default_factory=list)      # {"message", "property"}
    flex_errors: dict[int, list[dict]] = field(default_factory=dict)  # message index -> details
    warnings: list[dict] = field(default_factory=list)

    def error(self, message: str, prop: str) -> None:
        self.body_errors.append({"message": message, "property": prop})

    def warn(self, message: str, prop: str) -> None:
        self.warnings.append({"message": message, "property": prop})

    def raise_if_failed(self) -> None:
        if self.body_errors:
            count = len(self.body_errors)
            raise LineError(400, f"The request body has {count} error(s)", self.body_errors)
        for index, details in sorted(self.flex_errors.items()):
            raise LineError(400, f"A message (messages[{index}]) in the request body is invalid", details)


def check_messages(messages) -> Report:
    """Check a `messages` array of a reply or push request."""
    report = Report()
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        report.error(f"Size must be between 1 and {MAX_MESSAGES}", "messages")
        return report
    for index, message in enumerate(messages):
        _check_message(report, index, message)
    return report


def _check_message(report: Report, index: int, message) -> None:
    prop = f"messages[{index}]"
    if not isinstance(message, dict):
        report.error("must be an object", prop)
        return
    kind = message.get("type")
    if kind not in MESSAGE_TYPES:
        report.error(f"Must be one of the following values: [{', '.join(MESSAGE_TYPES)}]", f"{prop}.type")
        return
    if kind == "text":
        _check_text(report, message.get("text"), MAX_TEXT, f"{prop}.text", measure=utf16_length)
    elif kind == "image":
        for key in ("originalContentUrl", "previewImageUrl"):
            _check_image_url(report, message.get(key), f"{prop}.{key}", body_level=True)
    elif kind == "sticker":
        for key in ("packageId", "stickerId"):
            if not isinstance(message.get(key), str) or not message.get(key):
                report.error("May not be empty", f"{prop}.{key}")
    elif kind == "location":
        for key in ("title", "address"):
            _check_text(report, message.get(key), 100, f"{prop}.{key}")
        for key in ("latitude", "longitude"):
            if not isinstance(message.get(key), (int, float)) or isinstance(message.get(key), bool):
                report.error("must be a number", f"{prop}.{key}")
    elif kind == "flex":
        _check_text(report, message.get("altText"), MAX_ALT_TEXT, f"{prop}.altText")
        contents = message.get("contents")
        if not isinstance(contents, dict):
            report.error("May not be empty", f"{prop}.contents")
        else:
            details: list[dict] = []
            FlexChecker(details, report, prop).container(contents)
            if details:
                report.flex_errors[index] = details
    quick = message.get("quickReply")
    if quick is not None:
        _check_quick_reply(report, quick, f"{prop}.quickReply")


def _check_text(report: Report, value, limit: int, prop: str, measure=len) -> None:
    """A required string of at most `limit` characters (as LINE counts them), with LINE's error wording."""
    if not isinstance(value, str) or not value:
        report.error("May not be empty", prop)
    elif measure(value) > limit:
        report.error(f"Length must be between 0 and {limit}", prop)


def _check_image_url(report: Report, url, prop: str, *, body_level: bool, details: list | None = None) -> None:
    def fail(text: str) -> None:
        if body_level:
            report.error(text, prop)
        else:
            details.append({"message": text, "property": prop})

    if not isinstance(url, str) or not url:
        fail("May not be empty")
    elif len(url) > MAX_URL:
        fail(f"Length must be between 0 and {MAX_URL}")
    elif url.startswith("http://"):
        report.warn("LINE only loads HTTPS (TLS 1.2+) images; accepted here because this is a local run", prop)
    elif not url.startswith("https://"):
        fail("invalid uri scheme")


def _check_quick_reply(report: Report, quick, prop: str) -> None:
    items = quick.get("items") if isinstance(quick, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_QUICK_REPLY:
        report.error(f"Size must be between 1 and {MAX_QUICK_REPLY}", f"{prop}.items")
        return
    for i, item in enumerate(items):
        item_prop = f"{prop}.items[{i}]"
        if not isinstance(item, dict) or item.get("type") != "action":
            report.error("Must be one of the following values: [action]", f"{item_prop}.type")
            continue
        problem = action_problem(item.get("action"), max_label=MAX_ACTION_LABEL, label_required=True)
        if problem:
            message, sub = problem
            report.error(message, f"{item_prop}.action{'.' + sub if sub else ''}")


def action_problem(action, *, max_label: int, label_required: bool) -> tuple[str, str] | None:
    """First problem with an action object as (message, sub-property), or None."""
    if not isinstance(action, dict):
        return ("May not be empty", "")
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        return (f"Must be one of the following values: [{', '.join(sorted(ACTION_TYPES))}]", "type")
    label = action.get("label")
    if label_required and kind not in ("camera", "cameraRoll", "location") and not label:
        return ("May not be empty", "label")
    if isinstance(label, str) and len(label) > max_label:
        return (f"Length must be between 0 and {max_label}", "label")
    if kind == "postback":
        data = action.get("data")
        if not isinstance(data, str) or not data:
            return ("May not be empty", "data")
        if len(data) > MAX_POSTBACK_DATA:
            return (f"Length must be between 0 and {MAX_POSTBACK_DATA}", "data")
        if len(action.get("displayText") or "") > 300:
            return ("Length must be between 0 and 300", "displayText")
    elif kind == "message":
        if not action.get("text"):
            return ("May not be empty", "text")
        if len(action["text"]) > 300:
            return ("Length must be between 0 and 300", "text")
    elif kind == "uri":
        uri = action.get("uri")
        if not isinstance(uri, str) or not uri:
            return ("May not be empty", "uri")
        if len(uri) > 1000:
            return ("Length must be between 0 and 1000", "uri")
        if not uri.startswith(URI_SCHEMES):
            return ("invalid uri scheme", "uri")
    return None


class FlexChecker:
    """Checks a Flex container; details use JSON pointers inside the container, as LINE reports them."""

    def __init__(self, details: list[dict], report: Report, message_prop: str):
        self.details = details
        self.report = report
        self.message_prop = message_prop

    def fail(self, message: str, pointer: str) -> None:
        self.details.append({"message": message, "property": pointer or "/"})

    def container(self, contents: dict) -> None:
        kind = contents.get("type")
        if kind == "bubble":
            size = compact_size(contents)
            if size > MAX_BUBBLE_BYTES:
                self.fail(f"Too large flex message. The maximum size of JSON data is 30KB "
                          f"(this bubble is {size:,} bytes)", "/")
                return
            self.bubble(contents, "")
        elif kind == "carousel":
            bubbles = contents.get("contents")
            if not isinstance(bubbles, list) or not 1 <= len(bubbles) <= MAX_CAROUSEL:
                self.fail(f"Size must be between 1 and {MAX_CAROUSEL}", "/contents")
                return
            size = compact_size(contents)
            if size > MAX_CAROUSEL_BYTES:
                self.fail(f"Too large flex message. The maximum size of JSON data is 50KB "
                          f"(this carousel is {size:,} bytes)", "/")
                return
            sizes = {bubble.get("size", "mega") for bubble in bubbles if isinstance(bubble, dict)}
            if len(sizes) > 1:
                self.fail("all bubbles in a carousel must have the same size", "/contents")
            for i, bubble in enumerate(bubbles):
                if not isinstance(bubble, dict) or bubble.get("type") != "bubble":
                    self.fail("invalid property", f"/contents/{i}/type")
                    continue
                self.bubble(bubble, f"/contents/{i}")
        else:
            self.fail("Must be one of the following values: [bubble, carousel]", "/type")

    def bubble(self, bubble: dict, pointer: str) -> None:
        present = [name for name in BUBBLE_BLOCKS if name in bubble]
        if not present:
            self.fail("At least one block must be specified", pointer or "/")
            return
        for name in present:
            block = bubble[name]
            where = f"{pointer}/{name}"
            if not isinstance(block, dict):
                self.fail("invalid property", where)
            elif name == "hero" and block.get("type") in ("image", "video"):
                self.component(block, where, parent_layout=None)
            elif block.get("type") != "box":
                self.fail("must be a box" + (" or image" if name == "hero" else ""), f"{where}/type")
            else:
                self.component(block, where, parent_layout=None)
        if "action" in bubble:
            self.action(bubble["action"], f"{pointer}/action")

    def action(self, action, pointer: str, *, max_label: int = MAX_BUTTON_LABEL, label_required=False) -> None:
        problem = action_problem(action, max_label=max_label, label_required=label_required)
        if problem:
            message, sub = problem
            self.fail(message, f"{pointer}/{sub}" if sub else pointer)

    def component(self, node, pointer: str, parent_layout: str | None) -> None:
        if not isinstance(node, dict):
            self.fail("invalid property", pointer)
            return
        kind = node.get("type")
        if kind not in COMPONENT_TYPES or kind == "span":
            self.fail("unknown component type " + json.dumps(kind, ensure_ascii=False), f"{pointer}/type")
            return
        if parent_layout == "baseline" and kind not in BASELINE_CHILDREN:
            self.fail(f"a {kind} component is not allowed in a baseline box", f"{pointer}/type")
            return
        if "action" in node and kind != "button":
            self.action(node["action"], f"{pointer}/action")
        if kind == "box":
            layout = node.get("layout")
            if layout not in BOX_LAYOUTS:
                self.fail("Must be one of the following values: [baseline, horizontal, vertical]",
                          f"{pointer}/layout")
                return
            children = node.get("contents")
            if not isinstance(children, list):
                self.fail("must be specified", f"{pointer}/contents")
                return
            for i, child in enumerate(children):
                self.component(child, f"{pointer}/contents/{i}", layout)
        elif kind == "text":
            spans = node.get("contents")
            if spans:
                for i, span in enumerate(spans):
                    if not isinstance(span, dict) or span.get("type") != "span" or not span.get("text"):
                        self.fail("invalid property", f"{pointer}/contents/{i}")
            elif not isinstance(node.get("text"), str) or not node.get("text"):
                self.fail("must be specified", f"{pointer}/text")
        elif kind in ("image", "icon"):
            _check_image_url(self.report, node.get("url"), f"{self.message_prop}.contents{pointer}/url",
                             body_level=False, details=_Relay(self, f"{pointer}/url"))
            if "aspectRatio" in node and not _aspect_ratio_ok(node["aspectRatio"]):
                self.fail("aspectRatio must be {width}:{height} with each 1 to 100000 and the height at most "
                          "3 times the width", f"{pointer}/aspectRatio")
        elif kind == "button":
            self.action(node.get("action"), f"{pointer}/action", label_required=True)
        elif kind == "video":
            for key in ("url", "previewUrl"):
                _check_image_url(self.report, node.get(key), f"{self.message_prop}.contents{pointer}/{key}",
                                 body_level=False, details=_Relay(self, f"{pointer}/{key}"))


class _Relay:
    """Adapts `_check_image_url`'s detail list to a Flex JSON pointer."""

    def __init__(self, checker: FlexChecker, pointer: str):
        self.checker = checker
        self.pointer = pointer

    def append(self, detail: dict) -> None:
        self.checker.fail(detail["message"], self.pointer)


def _aspect_ratio_ok(value) -> bool:
    try:
        width, height = (int(part) for part in str(value).split(":"))
    except ValueError:
        return False
    return 1 <= width <= 100000 and 1 <= height <= 100000 and height <= 3 * width


# ---------------------------------------------------------------- rich menus

RICH_MENU_SIZES = ((2500, 1686), (2500, 843))
MAX_RICH_MENU_AREAS = 20
MAX_RICH_MENU_IMAGE = 1024 * 1024
MAX_CHAT_BAR_TEXT = 14
RICH_MENU_IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG"}


def check_rich_menu(body) -> Report:
    """A rich menu object as POST /v2/bot/richmenu checks it."""
    report = Report()
    if not isinstance(body, dict):
        report.error("must be an object", "richmenu")
        return report
    size = body.get("size") if isinstance(body.get("size"), dict) else {}
    width, height = size.get("width"), size.get("height")
    if (width, height) not in RICH_MENU_SIZES:
        report.error("size must be 2500x1686 or 2500x843", "size")
    if not isinstance(body.get("selected"), bool):
        report.error("must be specified", "selected")
    name = body.get("name")
    if not isinstance(name, str) or not name or len(name) > 300:
        report.error("Length must be between 1 and 300", "name")
    bar = body.get("chatBarText")
    if not isinstance(bar, str) or not bar or len(bar) > MAX_CHAT_BAR_TEXT:
        report.error(f"Length must be between 1 and {MAX_CHAT_BAR_TEXT}", "chatBarText")
    areas = body.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= MAX_RICH_MENU_AREAS:
        report.error(f"Size must be between 1 and {MAX_RICH_MENU_AREAS}", "areas")
        return report
    for i, area in enumerate(areas):
        prop = f"areas[{i}]"
        bounds = area.get("bounds") if isinstance(area, dict) else None
        if not isinstance(bounds, dict) or not all(isinstance(bounds.get(k), int) for k in ("x", "y", "width", "height")):
            report.error("must be specified", f"{prop}.bounds")
        elif isinstance(width, int) and isinstance(height, int) and (
                bounds["x"] < 0 or bounds["y"] < 0 or bounds["width"] < 1 or bounds["height"] < 1
                or bounds["x"] + bounds["width"] > width or bounds["y"] + bounds["height"] > height):
            report.error("the area is outside the rich menu", f"{prop}.bounds")
        problem = action_problem(area.get("action") if isinstance(area, dict) else None,
                                 max_label=MAX_ACTION_LABEL, label_required=False)
        if problem:
            message, sub = problem
            report.error(message, f"{prop}.action{'.' + sub if sub else ''}")
    return report


def check_rich_menu_image(data: bytes, content_type: str, width: int, height: int) -> None:
    """POST /v2/bot/richmenu/{id}/content: JPEG or PNG, at most 1 MB, exactly the menu's size."""
    import io

    from PIL import Image, UnidentifiedImageError

    kind = RICH_MENU_IMAGE_TYPES.get((content_type or "").split(";")[0].strip().lower())
    if kind is None:
        raise LineError(415, "Unsupported media type")
    if len(data) > MAX_RICH_MENU_IMAGE:
        raise LineError(413, f"The image is larger than 1 MB ({len(data):,} bytes)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            found, size = image.format, image.size
    except (UnidentifiedImageError, OSError):
        raise LineError(400, "The image could not be read as JPEG or PNG") from None
    if found != kind:
        raise LineError(400, f"The image is {found}, but Content-Type says {content_type}")
    if size != (width, height):
        raise LineError(400, f"The image is {size[0]}x{size[1]}; this rich menu is {width}x{height}")
