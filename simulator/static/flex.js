// Flex Message renderer: bubble and carousel containers to HTML, close to how the LINE app lays them out.
// Components: box (vertical/horizontal/baseline, spacing, margin, flex, padding, colours), text (size,
// weight, color, wrap, align, spans), image, button (postback/message/uri), separator, spacer, filler, icon.
// `onAction(action)` is called when the customer taps something with an action.
"use strict";

const FlexRender = (() => {
  const SPACING = { none: "0px", xs: "2px", sm: "4px", md: "8px", lg: "12px", xl: "16px", xxl: "20px" };
  const TEXT_SIZE = { xxs: "11px", xs: "13px", sm: "14px", md: "16px", lg: "19px", xl: "22px",
                      xxl: "29px", "3xl": "35px", "4xl": "48px", "5xl": "74px" };
  const IMAGE_SIZE = { xxs: "40px", xs: "60px", sm: "80px", md: "100px", lg: "120px", xl: "140px",
                       xxl: "160px", "3xl": "180px", "4xl": "200px", "5xl": "240px", full: "100%" };
  const BUBBLE_WIDTH = { nano: "120px", micro: "160px", deca: "220px", hecto: "241px", kilo: "260px",
                         mega: "300px", giga: "386px" };
  const JUSTIFY = { "flex-start": "flex-start", center: "center", "flex-end": "flex-end",
                    "space-between": "space-between", "space-around": "space-around",
                    "space-evenly": "space-evenly" };
  const ALIGN = { start: "flex-start", center: "center", end: "flex-end" };

  function el(tag, cls) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    return node;
  }

  const size = (value, table) => (value in table ? table[value] : value);

  function applyBoxStyle(node, c) {
    const s = node.style;
    if (c.backgroundColor) s.backgroundColor = c.backgroundColor;
    if (c.borderColor) s.borderColor = c.borderColor;
    if (c.borderWidth) {
      const widths = { none: "0", light: "0.5px", normal: "1px", medium: "2px", "semi-bold": "3px", bold: "4px" };
      s.borderWidth = size(c.borderWidth, widths);
      s.borderStyle = "solid";
    }
    if (c.cornerRadius) s.borderRadius = size(c.cornerRadius, SPACING);
    if (c.width) s.width = c.width;
    if (c.maxWidth) s.maxWidth = c.maxWidth;
    if (c.height) s.height = c.height;
    if (c.maxHeight) s.maxHeight = c.maxHeight;
    if (c.paddingAll) s.padding = size(c.paddingAll, SPACING);
    if (c.paddingTop) s.paddingTop = size(c.paddingTop, SPACING);
    if (c.paddingBottom) s.paddingBottom = size(c.paddingBottom, SPACING);
    if (c.paddingStart) s.paddingLeft = size(c.paddingStart, SPACING);
    if (c.paddingEnd) s.paddingRight = size(c.paddingEnd, SPACING);
    if (c.justifyContent) s.justifyContent = JUSTIFY[c.justifyContent] || c.justifyContent;
    if (c.alignItems) s.alignItems = JUSTIFY[c.alignItems] || c.alignItems;
  }

  function applyPosition(node, c) {
    const s = node.style;
    if (c.position === "absolute") s.position = "absolute";
    for (const [key, css] of [["offsetTop", "top"], ["offsetBottom", "bottom"], ["offsetStart", "left"],
                              ["offsetEnd", "right"]]) {
      if (c[key]) s[css] = size(c[key], SPACING);
    }
  }

  // Children of a horizontal box share the width (flex 1 by default); of a vertical one, take their height.
  function applyFlex(node, c, parentLayout) {
    if (!parentLayout) return;
    const horizontal = parentLayout !== "vertical";
    let grow = c.flex;
    if (grow === undefined) grow = horizontal && c.type !== "separator" && c.type !== "spacer" ? 1 : 0;
    node.style.flex = horizontal ? `${grow} ${grow === 0 ? 0 : 1} ${grow === 0 ? "auto" : "0"}` : `${grow} 0 auto`;
    if (horizontal && grow !== 0) node.style.minWidth = "0";
  }

  function attachAction(node, action, onAction) {
    if (!action) return;
    node.classList.add("flex-action");
    if (action.type === "postback") node.dataset.postback = action.data;  // scripts and tests find buttons by it
    node.addEventListener("click", (event) => { event.stopPropagation(); onAction(action); });
  }

  function renderComponent(c, parentLayout, onAction, spacing, index) {
    let node;
    switch (c.type) {
      case "box": node = renderBox(c, onAction); break;
      case "text": node = renderText(c); break;
      case "image": node = renderImage(c); break;
      case "icon": node = renderIcon(c); break;
      case "button": node = renderButton(c, onAction); break;
      case "separator":
        node = el("div", "flex-separator " + (parentLayout === "vertical" ? "h" : "v"));
        if (c.color) node.style.borderColor = c.color;
        break;
      case "spacer":
        node = el("div", "flex-spacer");
        node.style.height = size(c.size || "md", SPACING);
        node.style.flex = "0 0 auto";
        break;
      case "filler":
        node = el("div", "flex-filler");
        node.style.flex = `${c.flex === undefined ? 1 : c.flex} 0 0`;
        return node;
      default:
        node = el("div", "flex-unknown");
        node.textContent = `[${c.type}]`;
    }
    if (c.type !== "spacer" && c.type !== "icon") applyFlex(node, c, parentLayout);  // icons keep their size
    const margin = c.margin !== undefined ? c.margin : index > 0 ? spacing : undefined;
    if (margin && parentLayout) {
      node.style[parentLayout === "vertical" ? "marginTop" : "marginLeft"] = size(margin, SPACING);
    }
    applyPosition(node, c);
    if (c.type !== "button" && c.action) attachAction(node, c.action, onAction);
    if (c.gravity && parentLayout && parentLayout !== "vertical") {
      node.style.alignSelf = ALIGN[{ top: "start", center: "center", bottom: "end" }[c.gravity]];
    }
    return node;
  }

  function renderBox(c, onAction) {
    const node = el("div", "flex-box " + (c.layout || "vertical"));
    applyBoxStyle(node, c);
    (c.contents || []).forEach((child, i) => {
      node.appendChild(renderComponent(child, c.layout || "vertical", onAction, c.spacing, i));
    });
    return node;
  }

  function renderText(c) {
    const node = el("p", "flex-text");
    node.style.fontSize = size(c.size || "md", TEXT_SIZE);
    if (c.weight === "bold") node.style.fontWeight = "700";
    if (c.color) node.style.color = c.color;
    if (c.style === "italic") node.style.fontStyle = "italic";
    if (c.decoration && c.decoration !== "none") node.style.textDecoration = c.decoration;
    if (c.align) node.style.textAlign = { start: "left", center: "center", end: "right" }[c.align];
    if (c.lineSpacing) node.style.lineHeight = `calc(1.4em + ${c.lineSpacing})`;
    if (c.wrap) {
      node.classList.add("wrap");
      if (c.maxLines) { node.style.webkitLineClamp = c.maxLines; node.classList.add("clamp"); }
    }
    if (c.contents && c.contents.length) {
      for (const span of c.contents) {
        const s = el("span");
        s.textContent = span.text;
        if (span.color) s.style.color = span.color;
        if (span.weight === "bold") s.style.fontWeight = "700";
        if (span.size) s.style.fontSize = size(span.size, TEXT_SIZE);
        if (span.decoration && span.decoration !== "none") s.style.textDecoration = span.decoration;
        node.appendChild(s);
      }
    } else {
      node.textContent = c.text;
    }
    return node;
  }

  function renderImage(c) {
    const frame = el("div", "flex-image");
    const box = el("div", "flex-image-box");
    box.style.width = size(c.size || "md", IMAGE_SIZE);
    const [w, h] = (c.aspectRatio || "1:1").split(":").map(Number);
    box.style.aspectRatio = `${w} / ${h}`;
    if (c.backgroundColor) box.style.backgroundColor = c.backgroundColor;
    const img = el("img");
    img.src = localImage(c.url);
    if (img.src !== c.url) img.classList.add("substituted");
    img.dataset.url = c.url;
    img.alt = "";
    img.addEventListener("error", () => {   // a photo that does not load: the shop's cover instead
      const cover = coverFor(c.url);
      if (!img.src.endsWith(cover)) { img.src = cover; img.classList.add("substituted"); }
    }, { once: true });
    img.style.objectFit = c.aspectMode === "cover" ? "cover" : "contain";
    box.appendChild(img);
    frame.style.justifyContent = ALIGN[c.align || "center"];
    frame.appendChild(box);
    return frame;
  }

  // Development has no internet: a product photo on another site is shown as the product's generated
  // cover, which the bot serves (by photo URL) from its own /media when the simulator runs inside it.
  const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", location.hostname]);
  const coverFor = (url) => `/media/covers/by-photo?url=${encodeURIComponent(url)}`;

  function localImage(url) {
    try {
      const parsed = new URL(url, location.href);
      return LOCAL_HOSTS.has(parsed.hostname) ? url : coverFor(url);
    } catch (error) {
      return url;
    }
  }

  function renderIcon(c) {
    const img = el("img", "flex-icon");
    img.src = c.url;
    img.alt = "";
    const height = size(c.size || "md", TEXT_SIZE);
    img.style.height = height;
    const [w, h] = (c.aspectRatio || "1:1").split(":").map(Number);
    img.style.width = `calc(${height} * ${w / h})`;
    return img;
  }

  function renderButton(c, onAction) {
    const node = el("button", "flex-button " + (c.style || "link"));
    node.type = "button";
    node.textContent = (c.action && c.action.label) || "";
    if (c.height === "sm") node.classList.add("sm");
    if (c.color) {
      if ((c.style || "link") === "link") node.style.color = c.color;
      else node.style.backgroundColor = c.color;
    }
    attachAction(node, c.action, onAction);
    return node;
  }

  function renderBubble(bubble, onAction) {
    const node = el("div", "flex-bubble");
    node.style.width = BUBBLE_WIDTH[bubble.size || "mega"] || BUBBLE_WIDTH.mega;
    if (bubble.direction === "rtl") node.dir = "rtl";
    const styles = bubble.styles || {};
    for (const name of ["header", "hero", "body", "footer"]) {
      const block = bubble[name];
      if (!block) continue;
      const wrap = el("div", `flex-block flex-${name}`);
      const style = styles[name] || {};
      if (style.backgroundColor) wrap.style.backgroundColor = style.backgroundColor;
      if (style.separator) wrap.classList.add("separated");
      if (style.separatorColor) wrap.style.borderTopColor = style.separatorColor;
      const inner = block.type === "box" ? renderBox(block, onAction) : renderComponent(block, null, onAction);
      if (block.type === "image") inner.classList.add("hero-image");
      wrap.appendChild(inner);
      node.appendChild(wrap);
    }
    attachAction(node, bubble.action, onAction);
    return node;
  }

  function render(container, onAction) {
    if (container.type === "carousel") {
      const node = el("div", "flex-carousel");
      for (const bubble of container.contents || []) node.appendChild(renderBubble(bubble, onAction));
      return node;
    }
    return renderBubble(container, onAction);
  }

  return { render };
})();
