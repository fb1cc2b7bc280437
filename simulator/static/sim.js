// The simulator's chat page: several simulated customers, sending text, images, postbacks and
// follow/unfollow through the JSON API, and showing everything the bot sends (polled).
"use strict";

const API = document.body.dataset.api;
const state = {
  chats: [], groups: [], current: null, richMenuId: null, lastSeq: 0, rendered: new Map(), logSeq: 0, logAll: false,
  lastBotEntry: null, payEntry: null, polling: false, pinned: true,
};
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: {} };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(API + path, init);
  let data = null;
  try { data = await response.json(); } catch (e) { data = { message: `HTTP ${response.status}` }; }
  if (!response.ok) {
    const error = new Error(data.message || `HTTP ${response.status}`);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}

function toast(text, kind = "error") {
  const node = $("toast");
  node.textContent = text;
  node.className = "toast " + kind;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 6000);
}

const clock = (iso) => new Date(iso).toLocaleTimeString("th-TH", { hour: "2-digit", minute: "2-digit" });

// Keep the newest message in view unless the developer scrolled up to read.
function scrollToEnd() {
  if (state.pinned) $("messages").scrollTop = $("messages").scrollHeight;
}

function watchImage(img) {
  img.addEventListener("load", scrollToEnd);
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ------------------------------------------------------------------ customers

async function loadChats(selectId) {
  let { chats, groups } = await api("/chats");
  if (!chats.length) {
    await api("/chats", { method: "POST", body: {} });
    ({ chats, groups } = await api("/chats"));
  }
  state.chats = chats;
  // a group is shown like a chat: `user_id` is its chat ID, `isGroup` tells the page to send as a member
  state.groups = (groups || []).map((g) => ({ user_id: g.chat_id, display_name: g.name, isGroup: true,
                                               joined: g.joined, members: g.members, following: true }));
  const groupList = $("group-list");
  groupList.replaceChildren();
  for (const group of state.groups) {
    const item = el("li", "customer group");
    item.dataset.userId = group.user_id;
    item.appendChild(el("span", "avatar group", "กลุ่ม"));
    const info = el("span", "info");
    info.appendChild(el("b", null, group.display_name));
    info.appendChild(el("small", null, `${group.members.length} คน` + (group.joined ? "" : " · ร้านไม่ได้อยู่ในกลุ่ม")));
    item.appendChild(info);
    item.addEventListener("click", () => selectChat(group.user_id));
    groupList.appendChild(item);
  }
  const list = $("customer-list");
  list.replaceChildren();
  for (const chat of chats) {
    const item = el("li", "customer" + (chat.following ? "" : " blocked"));
    item.dataset.userId = chat.user_id;
    item.appendChild(el("span", "avatar", chat.display_name.slice(0, 1)));
    const info = el("span", "info");
    info.appendChild(el("b", null, chat.display_name));
    info.appendChild(el("small", null, chat.user_id.slice(0, 9) + "…" + (chat.following ? "" : " · บล็อกอยู่")));
    item.appendChild(info);
    item.addEventListener("click", () => selectChat(chat.user_id));
    list.appendChild(item);
  }
  const wanted = selectId || (state.current && state.current.user_id) || chats[0].user_id;
  await selectChat(wanted);
}

async function selectChat(userId) {
  const chat = [...state.chats, ...state.groups].find((c) => c.user_id === userId) || state.chats[0];
  const switched = !state.current || state.current.user_id !== chat.user_id;
  state.current = chat;
  for (const item of document.querySelectorAll(".customer")) {
    item.classList.toggle("active", item.dataset.userId === chat.user_id);
  }
  $("chat-title").textContent = chat.display_name;
  for (const node of document.querySelectorAll(".group-only")) node.hidden = !chat.isGroup;
  for (const node of document.querySelectorAll(".one-to-one")) node.classList.toggle("in-group", !!chat.isGroup);
  if (chat.isGroup) {
    const sender = $("sender");
    const previous = sender.value;
    sender.replaceChildren();
    for (const member of chat.members) {
      const option = el("option", null, member.display_name);
      option.value = member.user_id;
      sender.appendChild(option);
    }
    if (chat.members.some((m) => m.user_id === previous)) sender.value = previous;
  }
  showRichMenu();
  if (switched) {
    state.lastSeq = 0;
    state.rendered.clear();
    state.lastBotEntry = null;
    state.pinned = true;
    $("messages").replaceChildren();
    $("quick-replies").hidden = true;
    state.logSeq = 0;
    $("log-list").replaceChildren();
  }
  await poll();
}

// ------------------------------------------------------------------ sending

async function send(body, label) {
  const chat = state.current;
  try {
    if (chat.isGroup) {
      await api(`/groups/${chat.user_id}/messages?wait=0`, { method: "POST", body: { ...body, from: $("sender").value } });
    } else {
      await api(`/chats/${chat.user_id}/messages?wait=0`, { method: "POST", body });
    }
  } catch (error) {
    toast(`${label}: ${error.message}`);
  }
  poll();
}

function onAction(action) {
  switch (action.type) {
    case "postback":
      send({ postback: { data: action.data, displayText: action.displayText || null } }, "postback");
      if (action.inputOption === "openKeyboard") {
        $("text-input").value = action.fillInText || "";
        $("text-input").focus();
      }
      break;
    case "message":
      send({ text: action.text }, "message");
      break;
    case "uri":
      window.open(action.uri, "_blank", "noopener");
      break;
    case "camera":
    case "cameraRoll":
      $("image-input").click();
      break;
    default:
      toast(`action type "${action.type}" is not simulated`, "info");
  }
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function sendImages(files) {
  if (!files.length) return;
  const images = [];
  for (const file of files) images.push(await readAsDataUrl(file));
  await send(images.length === 1 ? { image_base64: images[0] } : { images_base64: images }, "image");
}

// ------------------------------------------------------------------ rendering

function rawToggle(value) {
  const wrap = el("div", "raw");
  const button = el("button", "raw-toggle", "{ }");
  button.type = "button";
  button.title = "ดู JSON";
  const pre = el("pre", "raw-json");
  pre.hidden = true;
  button.addEventListener("click", () => {
    pre.textContent = JSON.stringify(value, null, 2);
    pre.hidden = !pre.hidden;
  });
  wrap.append(button, pre);
  return wrap;
}

function renderBotMessage(entry) {
  const message = entry.message;
  const row = el("div", "row bot");
  row.appendChild(el("span", "shop-avatar small", "ร้าน"));
  const column = el("div", "column");
  if (entry.quoted) column.appendChild(el("div", "quote", `↩ ${describe(entry.quoted.message)}`));
  let body;
  switch (message.type) {
    case "text":
      body = el("div", "bubble text", message.text);
      break;
    case "image": {
      body = el("div", "bubble image");
      const img = el("img");
      img.src = message.previewImageUrl || message.originalContentUrl;
      img.alt = "รูปจากร้าน";
      watchImage(img);
      img.addEventListener("click", () => window.open(message.originalContentUrl, "_blank", "noopener"));
      body.appendChild(img);
      if (entry.promptpay) {
        const pay = el("button", "pay-button", `จ่ายเงินด้วยธนาคารจำลอง · ${entry.promptpay.amount || "?"} บาท`);
        pay.type = "button";
        pay.addEventListener("click", () => openPay(entry));
        body.appendChild(pay);
      } else if (entry.qr_state === "pending") {
        body.appendChild(el("small", "qr-state", "กำลังอ่าน QR…"));
      }
      break;
    }
    case "flex":
      body = el("div", "flex-message");
      body.title = message.altText || "";
      body.appendChild(FlexRender.render(message.contents, onAction));
      break;
    case "sticker":
      body = el("div", "bubble sticker", "🙂");
      body.appendChild(el("small", null, `สติกเกอร์ ${message.packageId}/${message.stickerId}`));
      break;
    default:
      body = el("div", "bubble text", `[${message.type}] ${message.altText || ""}`);
  }
  column.appendChild(body);
  const meta = el("div", "meta");
  meta.appendChild(el("span", "via", entry.via === "push" ? "push" : "reply"));
  meta.appendChild(el("span", "time", clock(entry.at)));
  meta.appendChild(rawToggle(message));
  column.appendChild(meta);
  row.appendChild(column);
  return row;
}

function renderUserEntry(entry) {
  if (entry.kind === "event") {
    const row = el("div", "row system");
    row.appendChild(el("span", "pill", entry.label));
    row.appendChild(redeliverButton(entry));
    row.appendChild(rawToggle(entry.event));
    return row;
  }
  const row = el("div", "row user");
  const column = el("div", "column");
  const message = entry.message;
  if (state.current && state.current.isGroup && entry.sender_name) column.appendChild(el("div", "sender-name", entry.sender_name));
  if (message.type === "sticker") {
    const body = el("div", "bubble sticker", STICKER_FACES[(message.keywords || [])[0]] || "🙂");
    body.appendChild(el("small", null, (message.keywords || []).join(", ") || `${message.packageId}/${message.stickerId}`));
    column.appendChild(body);
  } else if (message.type === "location") {
    const body = el("div", "bubble location");
    body.appendChild(el("b", null, `📍 ${message.title || "ตำแหน่ง"}`));
    body.appendChild(el("span", null, message.address || `${message.latitude}, ${message.longitude}`));
    column.appendChild(body);
  } else if (["audio", "video", "file"].includes(message.type)) {
    column.appendChild(el("div", "bubble media", describe(message)));
  } else if (message.type === "image") {
    const body = el("div", "bubble image");
    const img = el("img");
    img.src = message.originalContentUrl;
    img.alt = "รูปที่ส่ง";
    watchImage(img);
    body.appendChild(img);
    column.appendChild(body);
  } else {
    column.appendChild(el("div", "bubble text", message.text));
  }
  const meta = el("div", "meta");
  if (entry.read) meta.appendChild(el("span", "read", "อ่านแล้ว"));
  meta.appendChild(el("span", "time", clock(entry.at)));
  meta.appendChild(redeliverButton(entry));
  meta.appendChild(rawToggle(entry.event));
  column.appendChild(meta);
  row.appendChild(column);
  return row;
}

function redeliverButton(entry) {
  const button = el("button", "redeliver", "↻ ส่งซ้ำ");
  button.type = "button";
  button.title = "ส่งเหตุการณ์นี้อีกครั้ง (isRedelivery: true, webhookEventId และ replyToken เดิม)";
  button.addEventListener("click", async () => {
    try {
      await api(`/events/${entry.event_id}/redeliver`, { method: "POST" });
    } catch (error) {
      toast(`ส่งซ้ำไม่สำเร็จ: ${error.message}`);
    }
    poll();
  });
  return button;
}

function renderError(entry) {
  const row = el("div", "row system");
  const card = el("div", "line-error");
  card.appendChild(el("b", null, `LINE ปฏิเสธ ${entry.api}: ${entry.status} ${entry.error.message}`));
  const list = el("ul");
  for (const detail of entry.error.details || []) {
    list.appendChild(el("li", null, `${detail.property}: ${detail.message}`));
  }
  card.appendChild(list);
  card.appendChild(rawToggle({ response: entry.error, messages: entry.messages }));
  row.appendChild(card);
  return row;
}

function renderEntry(entry) {
  if (entry.from === "bot") return renderBotMessage(entry);
  if (entry.from === "user") return renderUserEntry(entry);
  if (entry.kind === "error") return renderError(entry);
  const row = el("div", "row system");
  row.appendChild(el("span", "pill", entry.kind === "redelivery" ? "↻ ส่งเหตุการณ์ซ้ำ (redelivery)" : entry.kind));
  row.appendChild(rawToggle(entry.event || entry));
  return row;
}

function showQuickReplies() {
  const bar = $("quick-replies");
  bar.replaceChildren();
  const entry = state.lastBotEntry;
  const items = entry && entry.message.quickReply ? entry.message.quickReply.items || [] : [];
  for (const item of items) {
    const chip = el("button", "chip", item.action.label || item.action.type);
    chip.type = "button";
    if (item.action.type === "postback") chip.dataset.postback = item.action.data;
    chip.addEventListener("click", () => onAction(item.action));
    bar.appendChild(chip);
  }
  bar.hidden = items.length === 0;
}

async function poll() {
  if (!state.current || state.polling) return;
  state.polling = true;
  try {
    const pending = [...state.rendered.values()].filter((r) => r.entry.qr_state === "pending"
                                                         || (r.entry.from === "user" && !r.entry.read && !state.current.isGroup));
    const after = pending.length ? Math.min(state.lastSeq, ...pending.map((r) => r.entry.seq - 1)) : state.lastSeq;
    const data = await api(`/chats/${state.current.user_id}/transcript?after=${after}`);
    const box = $("messages");
    let added = false;
    for (const entry of data.entries) {
      const known = state.rendered.get(entry.seq);
      if (known && known.entry.qr_state === entry.qr_state && known.entry.read === entry.read) continue;
      const node = renderEntry(entry);
      if (known) known.node.replaceWith(node);
      else { box.appendChild(node); added = true; }
      state.rendered.set(entry.seq, { entry, node });
      state.lastSeq = Math.max(state.lastSeq, entry.seq);
      if (!known) state.lastBotEntry = entry.from === "bot" ? entry : entry.from === "user" ? null : state.lastBotEntry;
    }
    if (added) showQuickReplies();
    if (added) scrollToEnd();
    $("loading").hidden = !data.chat.loading;
    await pollLog();
    await pollRichMenu();
  } catch (error) {
    toast(`โหลดแชตไม่ได้: ${error.message}`);
  } finally {
    state.polling = false;
  }
}

async function pollLog() {
  const { entries } = await api(`/log?after=${state.logSeq}`);
  const list = $("log-list");
  for (const entry of entries) {
    state.logSeq = Math.max(state.logSeq, entry.seq);
    if (!state.logAll && entry.user_id && entry.user_id !== state.current.user_id) continue;
    const item = el("li", `log-${entry.kind}`);
    const head = el("div", "log-head");
    head.appendChild(el("span", "log-time", new Date(entry.at).toLocaleTimeString("th-TH")));
    head.appendChild(el("span", "log-kind", entry.kind));
    head.appendChild(el("span", "log-summary", entry.summary));
    item.appendChild(head);
    const pre = el("pre", "raw-json");
    pre.hidden = true;
    head.addEventListener("click", () => {
      pre.textContent = JSON.stringify(entry.detail, null, 2);
      pre.hidden = !pre.hidden;
    });
    item.appendChild(pre);
    list.prepend(item);
  }
}

function describe(message) {
  switch (message && message.type) {
    case "text": return message.text;
    case "sticker": return `[สติกเกอร์] ${(message.keywords || []).join(", ")}`;
    case "image": return "[รูปภาพ]";
    case "location": return `[ตำแหน่ง] ${message.address || message.title || ""}`;
    case "audio": return `🎤 ข้อความเสียง ${Math.round((message.duration || 0) / 1000)} วินาที`;
    case "video": return `🎬 วิดีโอ ${Math.round((message.duration || 0) / 1000)} วินาที`;
    case "file": return `📄 ${message.fileName} (${Math.round((message.fileSize || 0) / 1024)} KB)`;
    default: return `[${message ? message.type : "?"}]`;
  }
}

// ------------------------------------------------------------------ stickers, locations, media

const STICKER_FACES = { Thanks: "🙏", OK: "👌", Love: "😍", Sad: "😢", Hello: "👋", No: "🙅" };
const STICKERS = [
  { label: "ขอบคุณ", packageId: "446", stickerId: "1989", keywords: ["Thanks", "Thank you", "Grateful"] },
  { label: "โอเค", packageId: "446", stickerId: "1988", keywords: ["OK", "Okay", "Sure"] },
  { label: "รักเลย", packageId: "446", stickerId: "1990", keywords: ["Love", "Heart"] },
  { label: "เศร้า", packageId: "446", stickerId: "2008", keywords: ["Sad", "Cry"] },
  { label: "สวัสดี", packageId: "446", stickerId: "1993", keywords: ["Hello", "Hi"] },
  { label: "ไม่เอา", packageId: "446", stickerId: "2007", keywords: ["No", "Nope"] },
];

function buildStickerPicker() {
  const picker = $("sticker-picker");
  for (const sticker of STICKERS) {
    const button = el("button", null, `${STICKER_FACES[sticker.keywords[0]]} ${sticker.label}`);
    button.type = "button";
    button.dataset.keywords = sticker.keywords.join(",");
    button.addEventListener("click", () => {
      picker.hidden = true;
      const { packageId, stickerId, keywords } = sticker;
      send({ sticker: { packageId, stickerId, keywords } }, "sticker");
    });
    picker.appendChild(button);
  }
}

function sendLocation() {
  const address = prompt("ที่อยู่ของตำแหน่งที่แชร์ (ว่าง = ไม่มีที่อยู่)",
                         "99/1 ถนนพระราม 9 แขวงห้วยขวาง เขตห้วยขวาง กรุงเทพมหานคร 10310");
  if (address === null) return;
  const location = { title: "ตำแหน่งของฉัน", latitude: 13.7563, longitude: 100.5018 };
  if (address.trim()) location.address = address.trim();
  send({ location }, "location");
}

// ------------------------------------------------------------------ the rich menu

async function pollRichMenu() {
  const now = Date.now();
  if (pollRichMenu.at && now - pollRichMenu.at < 2500) return;
  pollRichMenu.at = now;
  const { richmenu } = await api("/richmenu");
  const id = richmenu ? richmenu.richMenuId : null;
  if (id === state.richMenuId) return;
  state.richMenuId = id;
  state.richMenu = richmenu;
  renderRichMenu();
}

function renderRichMenu() {
  const menu = state.richMenu;
  const box = $("rich-menu-image");
  box.querySelectorAll(".rich-menu-area").forEach((node) => node.remove());
  if (!menu) return showRichMenu();
  box.querySelector("img").src = menu.image_url;
  $("rich-menu-bar").textContent = `${menu.chatBarText} ▾`;
  const { width, height } = menu.size;
  for (const area of menu.areas) {
    const node = el("div", "rich-menu-area");
    const b = area.bounds;
    Object.assign(node.style, { left: `${(100 * b.x) / width}%`, top: `${(100 * b.y) / height}%`,
                                width: `${(100 * b.width) / width}%`, height: `${(100 * b.height) / height}%` });
    node.title = area.action.label || area.action.data || area.action.type;
    if (area.action.type === "postback") node.dataset.postback = area.action.data;
    node.addEventListener("click", () => onAction(area.action));
    box.appendChild(node);
  }
  showRichMenu();
}

function showRichMenu() {
  // LINE shows the default rich menu in one-to-one chats only
  $("rich-menu").hidden = !state.richMenu || !state.current || !!state.current.isGroup;
}

// ------------------------------------------------------------------ the simulated bank

function openPay(entry) {
  state.payEntry = entry;
  $("pay-target").textContent = entry.promptpay.target;
  $("pay-qr-amount").textContent = entry.promptpay.amount ? `${entry.promptpay.amount} บาท` : "ไม่ระบุ";
  $("pay-amount").value = entry.promptpay.amount_satang ? (entry.promptpay.amount_satang / 100).toFixed(2) : "";
  $("pay-mode").value = "normal";
  $("pay-error").hidden = true;
  $("pay-dialog").showModal();
}

async function submitPay(event) {
  event.preventDefault();
  const entry = state.payEntry;
  try {
    await api(`/chats/${state.current.user_id}/pay?wait=0`, {
      method: "POST",
      body: { mode: $("pay-mode").value, amount: $("pay-amount").value, qr_seq: entry.seq },
    });
    $("pay-dialog").close();
  } catch (error) {
    $("pay-error").textContent = error.message;
    $("pay-error").hidden = false;
  }
  poll();
}

// ------------------------------------------------------------------ wiring

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("text-input");
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  send({ text }, "text");
});
$("messages").addEventListener("scroll", () => {
  const box = $("messages");
  state.pinned = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
});
$("image-input").addEventListener("change", async (event) => {
  await sendImages([...event.target.files]);
  event.target.value = "";
});
$("add-customer").addEventListener("click", async () => {
  const name = prompt("ชื่อลูกค้าจำลอง (เว้นว่างเพื่อใช้ชื่อตัวอย่าง)") || undefined;
  try {
    const chat = await api("/chats", { method: "POST", body: name ? { display_name: name } : {} });
    await loadChats(chat.user_id);
  } catch (error) {
    toast(error.message);
  }
});
$("sticker-button").addEventListener("click", () => { $("sticker-picker").hidden = !$("sticker-picker").hidden; });
$("location-button").addEventListener("click", sendLocation);
$("media-button").addEventListener("change", (event) => {
  const kind = event.target.value;
  event.target.value = "";
  if (kind === "file") send({ file: { fileName: "slip.pdf", fileSize: 48213 } }, "file");
  else if (kind) send({ [kind]: { duration: 7000 } }, kind);
});
$("rich-menu-bar").addEventListener("click", () => $("rich-menu").classList.toggle("collapsed"));
$("add-group").addEventListener("click", async () => {
  const name = prompt("ชื่อกลุ่ม (สมาชิก: ลูกค้าจำลองทุกคน)", "ก๊วนบอร์ดเกม");
  if (!name) return;
  if (state.chats.length < 2) await api("/chats", { method: "POST", body: {} });
  const { chats } = await api("/chats");
  try {
    const group = await api("/groups", { method: "POST", body: { name, members: chats.map((c) => c.user_id), joined: false } });
    await loadChats(group.chat_id);
  } catch (error) {
    toast(error.message);
  }
});
async function groupAction(path, body, label) {
  try {
    await api(`/groups/${state.current.user_id}/${path}?wait=0`, { method: "POST", body });
  } catch (error) {
    toast(`${label}: ${error.message}`);
  }
  await loadChats(state.current.user_id);
}
$("group-join").addEventListener("click", () => groupAction("join", {}, "join"));
$("group-leave").addEventListener("click", () => groupAction("leave", {}, "leave"));
$("group-member").addEventListener("click", async () => {
  const name = prompt("ชื่อสมาชิกใหม่", "ลูกค้าใหม่");
  if (name) await groupAction("members", { join: [name] }, "memberJoined");
});
$("follow").addEventListener("click", async () => { await send({ follow: true }, "follow"); loadChats(); });
$("unfollow").addEventListener("click", async () => { await send({ unfollow: true }, "unfollow"); loadChats(); });
$("toggle-log").addEventListener("click", () => document.body.classList.toggle("log-hidden"));
$("log-all").addEventListener("change", (event) => {
  state.logAll = event.target.checked;
  state.logSeq = 0;
  $("log-list").replaceChildren();
  pollLog();
});
$("reset").addEventListener("click", async () => {
  if (!confirm("ล้างทุกแชตและรายการโอนในตัวจำลอง?")) return;
  await api("/reset", { method: "POST" });
  state.current = null;
  await loadChats();
});
$("pay-form").addEventListener("submit", submitPay);
$("pay-cancel").addEventListener("click", () => $("pay-dialog").close());

buildStickerPicker();
loadChats().then(() => setInterval(poll, 700));
