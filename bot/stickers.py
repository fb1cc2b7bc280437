"""What a customer's sticker means, read from the `keywords` LINE sends with it, and a reply in kind.

In a Thai chat a sticker is often the whole message: thanks, OK, a hello, love, a sad face. LINE
describes each sticker with up to 15 English (sometimes Thai) keywords, picked at random for every
event, so the meaning is decided by whichever known keyword appears, strongest meaning first.
"""
from __future__ import annotations

import re

# Meanings in priority order: a sticker tagged both "OK" and "thanks" is read as OK (it may answer a
# question); "no" comes before "ok" so that "not OK" stickers are not taken for a yes.
MEANINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("no", ("no", "nope", "no way", "ng", "disagree", "refuse", "reject", "cross", "ไม่", "ไม่เอา", "ไม่ใช่")),
    ("ok", ("ok", "okay", "okey", "yes", "yep", "yeah", "sure", "agree", "roger", "got it", "understood",
            "alright", "all right", "fine", "good", "great", "nice", "cool", "perfect", "thumbs up", "like",
            "sounds good", "will do", "done", "accept", "ตกลง", "โอเค", "ได้", "ใช่", "รับทราบ", "จ้า")),
    ("thanks", ("thanks", "thank you", "thank", "thx", "ty", "grateful", "appreciate", "ขอบคุณ", "ขอบใจ")),
    ("sorry", ("sorry", "apologize", "apology", "my bad", "ขอโทษ")),
    ("hello", ("hello", "hi", "hey", "greeting", "greetings", "good morning", "morning", "yo", "สวัสดี")),
    ("bye", ("bye", "goodbye", "bye bye", "see you", "see ya", "good night", "night", "sleep", "sleepy",
             "ลาก่อน", "ฝันดี", "บาย")),
    ("love", ("love", "heart", "kiss", "hug", "xoxo", "adore", "รัก")),
    ("sad", ("sad", "cry", "crying", "tears", "sob", "upset", "depressed", "lonely", "hurt", "เศร้า", "ร้องไห้")),
    ("angry", ("angry", "mad", "annoyed", "furious", "grr", "rage", "โกรธ")),
    ("happy", ("happy", "laugh", "lol", "haha", "fun", "joy", "yay", "excited", "celebrate", "smile",
               "ดีใจ", "ขำ", "555")),
    ("question", ("what", "why", "question", "confused", "hmm", "huh", "?", "งง", "อะไร")),
)

REPLIES = {
    "ok": "รับทราบค่ะ 👌 ถ้าต้องการอะไรเพิ่มเติม บอกทางร้านได้เลยนะคะ",
    "no": "ได้เลยค่ะ ถ้าเปลี่ยนใจหรืออยากดูเกมอื่น บอกทางร้านได้ตลอดนะคะ",
    "thanks": "ยินดีค่ะ 😊 ขอบคุณที่อุดหนุนทางร้านนะคะ มีอะไรให้ช่วยอีก ทักมาได้เลยค่ะ",
    "sorry": "ไม่เป็นไรเลยค่ะ 😊 มีอะไรให้ทางร้านช่วย บอกได้เลยนะคะ",
    "hello": "สวัสดีค่ะ{name} 😊 วันนี้สนใจบอร์ดเกมแบบไหนคะ บอกจำนวนคนหรือชื่อเกมมาได้เลยค่ะ",
    "bye": "ขอบคุณที่แวะมาคุยกับทางร้านนะคะ แล้วพบกันใหม่ค่ะ 👋",
    "love": "ทางร้านก็ขอบคุณมาก ๆ เลยค่ะ 💕 มีเกมไหนที่สนใจ บอกได้เลยนะคะ",
    "sad": ("เป็นกำลังใจให้นะคะ 🥺 ถ้ามีอะไรให้ทางร้านช่วย บอกได้เลยค่ะ "
            "หรือจะให้แนะนำเกมสนุก ๆ ไว้เล่นคลายเครียดก็ได้นะคะ"),
    "angry": ("ขออภัยด้วยนะคะ 🙏 ถ้ามีอะไรไม่สะดวก บอกทางร้านได้เลย "
              "หรือกด \"คุยกับแอดมิน\" ให้พนักงานช่วยดูแลได้ค่ะ"),
    "happy": "ดีใจด้วยค่ะ 😄 ถ้าอยากได้เกมสนุก ๆ เพิ่ม ทางร้านช่วยแนะนำได้นะคะ",
    "question": "มีอะไรสงสัยถามทางร้านได้เลยค่ะ 😊 พิมพ์ชื่อเกม หรือบอกว่าอยากได้เกมแบบไหนก็ได้นะคะ",
    None: "ขอบคุณสำหรับสติกเกอร์ค่ะ 😊 ถ้าต้องการสอบถามเรื่องบอร์ดเกม พิมพ์มาได้เลยนะคะ",
}

_SEPARATORS = re.compile(r"[\s_\-]+")


def _normal(word: str) -> str:
    return _SEPARATORS.sub(" ", word.strip().lower())


def meaning(keywords: list[str] | None) -> str | None:
    """The sticker's meaning ("ok", "thanks", "hello", ...) or None when no keyword is known."""
    words = {_normal(k) for k in keywords or [] if isinstance(k, str)}
    for name, known in MEANINGS:
        if words & set(known):
            return name
    return None


def reply_text(sticker_meaning: str | None, name: str = "") -> str:
    """A short answer in kind; `name` (the customer's display name) personalises the hello."""
    return REPLIES[sticker_meaning].format(name=f" คุณ{name}" if name else "")
