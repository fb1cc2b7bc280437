"""What a customer wants: the intent names, the keyword rules that spot them, and exemplar sentences.

Rules are regular expressions over the *compact* text (lower case, no spaces, Thai digits made
Arabic, runs of a repeated letter squeezed: "ค่าาาา" -> "ค่า"). A pure-ASCII rule is matched on the
spaced text between word boundaries instead, so "hi" does not fire inside "this". Each hit adds its
weight to the intent's score; the best score wins. Misspellings are caught by fuzzy matching of the
longer literal keywords (see FUZZY_KEYWORDS). The exemplars feed the sentence encoder, which decides
only when no rule fired.
"""
from __future__ import annotations

import re
from enum import Enum


class Intent(str, Enum):
    GREETING = "greeting"
    PRODUCT_QUESTION = "product_question"
    PRICE = "price"
    AVAILABILITY = "availability"
    RECOMMENDATION = "recommendation"
    ADD_TO_CART = "add_to_cart"
    CHANGE_CART = "change_cart"
    REMOVE_FROM_CART = "remove_from_cart"
    VIEW_CART = "view_cart"
    CHECKOUT = "checkout"
    SHIPPING_DETAILS = "shipping_details"
    PAYMENT_QUESTION = "payment_question"
    ORDER_STATUS = "order_status"
    CANCEL = "cancel"
    TALK_TO_STAFF = "talk_to_staff"
    THANKS_BYE = "thanks_bye"
    CONFIRM = "confirm"
    DENY = "deny"
    UNKNOWN = "unknown"


I = Intent
_Q = r"(?:ไหม|มั้ย|มั๊ย|มะ|หรือเปล่า|รึเปล่า|รึป่าว|ป่ะ|ปะ|เปล่า)"  # question tags
_HOW_MUCH = r"(?:เท่า(?:ไหร่|ไร|ไหร|หร่|ไหล่|รัย|ไร่)|กี่บาท|กี่ตัง)"
# Vocabulary classes: a new member belongs here, not in one rule. Not "wallet" or "cash": they are
# game titles in the catalogue ("Wallet", "Cash & Guns").
BANKS = (r"(?:กสิกร|เคพลัส|ไทยพาณิชย์|กรุงไทย|กรุงศรี|ออมสิน|ทีทีบี|ทหารไทย|ธนชาต|ธ\.?กรุงเทพ|ธนาคาร|บัวหลวง"
          r"|ยูโอบี|ซีไอเอ็มบี|ธกส|ธ\.ก\.ส|แบงค์|แบงก์|โมบายแบงก์กิ้ง|ทรูมันนี่|ทรูวอลเล็ท|อีวอลเล็ท|ช้อปปี้เพย์|ไลน์เพย์"
          r"|แรบบิท|เพย์พาล|บัตรเดบิต|เดบิต|วีซ่า|มาสเตอร์การ์ด|เงินสด)")
BANKS_EN = (r"(?:kbank|k-?plus|scb|ktb|krungsri|ttb|bbl|uob|cimb|mobile banking|truemoney|true ?wallet|e-?wallet"
             r"|shopee ?pay|line ?pay|rabbit|paypal|debit|visa|master ?card)")
CARRIERS = (r"(?:ไปรษณีย์|ไปรษณี|อีเอ็มเอส|เคอรี่|แฟลช|เจแอนด์ที|เจแอนที|นินจาแวน|ลาล่ามูฟ|แกร็บ|แกรบ|ไลน์แมน"
             r"|ไรเดอร์|แมสเซนเจอร์)")
CARRIERS_EN = (r"(?:ems|kerry|flash|j&t|j ?& ?t|best express|ninja ?van|shopee express|dhl|lalamove|grab|line ?man"
                r"|rider|messenger)")
FAR_AWAY = r"(?:ต่างจังหวัด|ต่างประเทศ|ทั่วประเทศ|ทั่วไทย|ทุกจังหวัด|ต่างอำเภอ)"
SHIPPING_FEE = r"(?:ค่าส่ง|ค่าจัดส่ง|ค่าขนส่ง|ค่าไปรษณีย์|ส่งฟรี|ฟรีค่าส่ง|ฟรีส่ง)"

RULES: dict[Intent, list[tuple[str, float]]] = {
    I.GREETING: [
        (r"^(?:สวัสดี|หวัดดี|ดีค่ะ|ดีครับ|ดีคับ|ดีจ้า|ทักค่ะ|ทักครับ)", 3.0),
        (r"^(?:สวัสดี|หวัดดี|ดี)(?:ค่ะ|ครับ|คับ|จ้า)?(?:แอดมิน|แอด|admin|ร้าน)(?:ค่ะ|ครับ|คับ|จ้า)?$", 2.0),
        (r"สวัสดี|หวัดดี|ดีจ้า", 2.0),
        (r"^(?:ทัก|ทักมา|มา)?(?:ขอ|อยาก)?(?:สอบ)?ถาม(?:เรื่อง(?:เกม|สินค้า)|หน่อย|ค่ะ|ครับ|คะ|นะ|จ้า|คับ|ได้ไหม|ได้มั้ย)*$", 2.0),
        (r"^ทัก(?:มา)?(?:ค่ะ|ครับ|คับ|จ้า|นะ)*$", 2.0),
        (r"hello|hi|hey|good (?:morning|afternoon|evening)|yo", 2.0),
        (r"^(?:hello|hi|hey) (?:admin|shop|there)$", 2.0),
    ],
    I.PRODUCT_QUESTION: [
        (r"เล่น(?:\d+คน|คนเดียว)ได้(?:ไหม|มั้ย|ป่ะ|ปะ|รึเปล่า|หรือเปล่า|มะ)|กี่ใบ|กี่ลูก|กี่ชิ้น|เล่นกี่คน|กี่คนเล่น|ได้กี่คน|สูงสุดกี่คน|เล่นยังไง|เล่นอย่างไร|วิธีเล่น|กติกา|คู่มือ", 2.5),
        (r"ต่างจาก|ต่างกัน|เปรียบเทียบ|ดีกว่า|(?:ง่าย|ยาก|สนุก|คุ้ม|มันส์|นาน|เร็ว|ถูก|แพง|เหมาะ)กว่า|(?:อัน|ตัว|เกม)ไหน.*กว่า|กว่ากัน|ภาษา|รายละเอียด|ข้อมูล|สเปค|เป็นเกมแนว|เกมแนวไหน|แนวไหน|คือเกมอะไร|คืออะไร|เกี่ยวกับอะไร", 2.0),
        (r"เล่นยาก|ยากไหม|ยากมั้ย|ง่ายไหม|นานไหม|นานมั้ย|นานแค่ไหน|ใช้เวลา|กี่นาที|กี่ชั่วโมง", 2.0),
        (r"กี่ขวบ|อายุเท่า|อายุกี่|เหมาะกับ|เหมาะสำหรับ|มีอะไรบ้างในกล่อง|ในกล่อง|ขนาดกล่อง|ภาษาไทย|แปลไทย|เวอร์ชั่น|เวอร์ชัน", 2.0),
        (r"how to play|how many players|what is|rules|details|box size|language|compare|difference|vs|versus|which is (?:easier|better|harder)|easy|hard|difficult|learn|how long", 2.0),
    ],
    I.PRICE: [
        (r"ราคา", 2.0),
        (_HOW_MUCH, 2.0),
        (r"ลดราคา|ส่วนลด|โปรโมชั่น|ราคาลด|ราคาเต็ม", 3.5),
        (r"(?:ลด|เหลือ)(?:เหลือ)?เท่าไ|ลดกี่|ลด(?:ได้)?(?:ไหม|มั้ย|ป่ะ|ปะ)", 4.5),
        (r"โปร", 1.5),
        (SHIPPING_FEE, 3.0),
        (r"how much|price|cost|discount|shipping fee|delivery fee", 2.5),
    ],
    I.AVAILABILITY: [
        (rf"^มี.+{_Q}", 2.0),
        (rf"มี(?:ขาย|ของ|สต็อก|สต๊อก|สต็อค|สต๊อค)|ยังมี|เหลือ(?:กี่|อยู่)|^เหลือ.+กี่|หมด(?:แล้ว|ยัง|รึยัง|หรือยัง|ไหม|มั้ย)|ของเข้า|พร้อมส่ง|มี.+ขาย{_Q}", 2.5),
        (rf"มี.+{_Q}$|มี.+{_Q}(?:คะ|ค่ะ|ครับ|คับ|จ้า)$", 1.0),
        (r"do you have|do you sell|got any|in stock|available|sold out|have any", 2.5),
    ],
    I.RECOMMENDATION: [
        (r"แนะนำ|ช่วยเลือก|เกมอะไรดี|อะไรดี|ขายดี|ยอดนิยม|มือใหม่|ของขวัญ|ซักเกม|สักเกม|สนุกๆ|หาเกม|อยากได้เกม|ขอเกม|เกมที่|เกมสำหรับ|เกมแนว|เกมเล่น", 2.0),
        (r"มีเกมอะไร|เกมไหน|มีอะไรบ้าง|เกม.*(?:ปาร์ตี้|ปาตี้|ครอบครัว|วางแผน|กลยุทธ|ร่วมมือ|สืบสวน|การ์ด)|บอร์ดเกม", 1.5),
        (r"recommend|suggest|any .*games?|games? for|party game|family game|co-?op", 2.5),
    ],
    I.ADD_TO_CART: [
        (r"^(?:เอา|ขอ(?!ง|บ|ดู|สอบถาม|คุย|เบอร์|เลข|ยกเลิก|คืน|ชำระ|จ่าย|รายละเอียด|สั่งของ)|รับ|สั่ง(?!ซื้อเลย)|ซื้อ|จัด|จอง)", 1.5),
        (r"ใส่ตะกร้า|หยิบใส่|ลงตะกร้า|เพิ่มลงตะกร้า|^เพิ่ม(?!จำนวน|เป็น)|อีก(?:กล่อง|ชิ้น|อัน|ชุด)|ขอสั่ง(?!ของ)|ขอซื้อ|สั่งซื้อ(?!เลย)|อยากได้|สนใจ|จัดมา|เอาด้วย|เอาเพิ่ม|เพิ่มอีก|จองไว้|จอง", 2.0),
        (r"เอา.*\d+(?:กล่อง|ชิ้น|อัน|เกม|ชุด)|\d+(?:กล่อง|ชิ้น|อัน|ชุด)", 1.5),
        (r"add .*to (?:my )?cart|add to cart|add|i want to buy|i(?:'ll| will) take|buy|want|get me|order", 2.5),
    ],
    I.CHANGE_CART: [
        (r"เปลี่ยนเป็น|แก้เป็น|แก้จำนวน|แก้ไขตะกร้า|เปลี่ยนจำนวน|ลดเหลือ|ลดจำนวน|เพิ่มจำนวน|เพิ่มเป็น|เหลือ\d|เป็น\d+(?:กล่อง|ชิ้น|อัน)|ลดเป็น|เป็น(?:กล่อง|ชิ้น|อัน)เดียว|เอาแค่|แค่\d.*พอ|แก้ไข|เปลี่ยนจาก", 4.0),
        (r"change (?:the )?quantity|update (?:the )?cart|change to|make it", 3.0),
    ],
    I.REMOVE_FROM_CART: [
        (r"ลบ|เอาออก|เอา.+ออก|ตัด.+ออก|ตัด(?!สินใจ|รอบ|ยอด|บัตร).*ทิ้ง|ทิ้ง(?:ไป|เลย)|ยกออก|ล้างตะกร้า|นำออก|ออกจากตะกร้า|ออกจากรถเข็น|ไม่เอา.+แล้ว.*ออก", 3.5),
        (r"remove|delete|take out|clear (?:the )?cart", 3.0),
    ],
    I.VIEW_CART: [
        (r"ที่เลือกไว้|เลือกไว้|ที่หยิบไว้|ดูตะกร้า|ในตะกร้า|ตะกร้าของ|เช็คตะกร้า|ดูรถเข็น|รถเข็น|ของในตะกร้า|ตะกร้า", 2.0),
        (rf"ในตะกร้ามี|(?:รวม|ทั้งหมด|ยอดรวม|ยอด).*{_HOW_MUCH}|สรุปรายการ|สรุปยอด|สั่งอะไรไปบ้าง|สั่งอะไรไป|รายการที่สั่ง|ของที่สั่ง|ดูรายการ", 3.5),
        (r"view cart|my cart|show cart|what.s in my cart|total", 3.0),
    ],
    I.CHECKOUT: [
        (r"พร้อมจ่าย|พร้อมชำระ|เช็คเอาท์|เช็คเอ้าท์|เช็กเอาต์|ชำระเงิน|จ่ายเงิน|จ่ายตัง|คิดเงิน|เช็คบิล|เช็กบิล|ตัดรอบ|สั่งซื้อเลย|ยืนยันสั่งซื้อ|ยืนยันการสั่งซื้อ|หน้าชำระ|ขอสั่งของ|สั่งเลย|ปิดออเดอร์|จ่ายเลย", 4.0),
        (r"^(?:ขอ)?ชำระ|พอแค่นี้|แค่นี้พอ", 1.5),
        (r"check ?out|pay now|place (?:the |my )?order", 3.0),
    ],
    I.SHIPPING_DETAILS: [
        (r"ที่อยู่|ชื่อผู้รับ|^ชื่อ|^ผู้รับ|เบอร์|โทร|ส่ง(?:ของ)?(?:ไป|มา)?ที่|รับเอง|รับที่ร้าน|หน้าร้าน|มารับ|ไปรับ", 2.5),
        (rf"{CARRIERS}|ส่ง(?:ของ|สินค้า|พัสดุ)?(?:ไป)?{FAR_AWAY}|(?:ส่ง|จัดส่ง)(?:ของ|สินค้า)?(?:ให้)?ได้{_Q}", 2.5),
        (CARRIERS_EN, 2.5),
        (r"pick ?up|delivery|deliver|ship to|address", 2.5),
    ],
    I.PAYMENT_QUESTION: [
        (r"โอน|สลิป|พร้อมเพย์|พร้อมเพ|บัตรเครดิต|เครดิต|เลขบัญชี|บัญชี|สแกน|ผ่อน|ปลายทาง|qr|คิวอาร์|จ่ายแล้ว|ชำระแล้ว|ชำระทาง|จ่ายทาง|จ่ายผ่าน|จ่ายยังไง|ช่องทางชำระ|ช่องทางจ่าย|ยังไม่ขึ้น", 3.0),
        (BANKS, 3.5),
        (BANKS_EN, 3.5),
        (r"paid|pay by|payment|credit card|bank|transfer|promptpay|slip|cod", 3.0),
    ],
    I.ORDER_STATUS: [
        (r"ถึงไหน|สถานะ|เลขพัสดุ|พัสดุ|ติดตาม|แทรคกิ้ง|แทร็คกิ้ง|แทร็กกิ้ง|เลขแทรค|มาถึงเมื่อไ|ถึงเมื่อไ|ส่งเมื่อไ|ได้ของเมื่อไ|ส่งของ(?:รึ|หรือ)?ยัง|ส่ง(?:รึ|หรือ|แล้ว)?ยัง|จัดส่ง(?:รึ|หรือ)?ยัง|ยังไม่ได้ของ|(?:ของ|พัสดุ|สินค้า)(?:ยัง)?ไม่(?:มา|ถึง)|ยังไม่(?:ได้)?รับ(?:ของ|สินค้า|พัสดุ)|ไม่ได้รับ(?:ของ|สินค้า|พัสดุ)|ของมา(?:รึ|หรือ)?ยัง|รอของ|ของส่ง(?:แล้ว)?(?:รึ|หรือ)?(?:ยัง|เปล่า|ป่าว)|ส่งแล้ว(?:รึ|หรือ)(?:เปล่า|ป่าว|ยัง)|ได้ของวันไหน|ของจะถึง|ตรวจสอบคำสั่งซื้อ|ตรวจสอบออเดอร์|เช็คออเดอร์|ได้รับเงิน|ออเดอร์ของ|คำสั่งซื้อของ", 3.0),
        (r"where is my order|order status|track|tracking|shipped", 3.0),
        (r"ออเดอร์|คำสั่งซื้อ", 1.0),
    ],
    I.CANCEL: [
        (r"ยกเลิก|ไม่ซื้อแล้ว|คืนเงิน|ขอคืน|refund", 4.0),
        (r"เปลี่ยนใจ", 2.0),
        (r"cancel", 4.0),
    ],
    I.TALK_TO_STAFF: [
        (r"แอดมิน|แอดมืน|พนักงาน|เจ้าหน้าที่|คนจริง|คนตอบ|เจ้าของร้าน|ติดต่อร้าน|เบอร์ร้าน|ร้องเรียน|เสียหาย|ของเสีย|ไม่เข้าใจ|คุยกับคน", 3.5),
        (r"admin|human|staff|agent|real person|operator|complain", 3.5),
    ],
    I.THANKS_BYE: [
        (r"ขอบคุณ|ขอบใจ|ขอบคุง|ขอบคุน|ขอบพระคุณ|แ?ต[่้๊]?งค?์?ก[ิี][้๊]?ว|เท็?งกิ้ว|บาย|บ๊าย|ไว้คราวหน้า|ไว้มาใหม่|แค่นี้ก่อน|ไว้ก่อนนะ|ลาก่อน", 3.0),
        (r"thank|thanks|thx|ty|tq|tks|bye|see you", 3.0),
    ],
    I.CONFIRM: [
        (r"^(?:ตกลง|ใช่|ยืนยัน|โอเค|โอเค้|ได้เลย|ได้ค่ะ|ได้ครับ|ถูกต้อง|ถูกค่ะ|ถูกครับ|เอาค่ะ|เอาครับ|เอาเลย|จัดไป|จัดเลย|ตามนั้น|ตามนี้|ไปเลย|ชัวร์|แน่นอน|จ้า|ค่ะ|ครับ|คับ|ok|okay|yes|yep|sure|confirm)", 2.0),
        (r"ยืนยัน|ตกลง|ถูกต้อง", 1.5),
        (r"^(?:ok|okay|yes|yep|yeah|sure|confirm(?:ed)?|y)$", 3.0),
    ],
    I.DENY: [
        (r"^(?:ไม่|ไม่ใช่|ไม่เอา|ไม่ต้อง|ไม่ถูก|ยังก่อน|ยังไม่|ผิด)", 2.5),
        (r"ไม่เอา|ไม่ต้อง|ไม่ใช่|ยังก่อน|ไม่ถูก", 1.0),
        (r"^(?:no|nope|nah|not now|n)$", 3.5),
    ],
    # Services the shop does not offer: buying games from customers, repairs, homework.
    I.UNKNOWN: [
        (r"รับซื้อ|ฝากขาย|รับเทิร์น|เทิร์นเกม|รับซ่อม|การบ้าน", 4.0),
    ],
}

# Longer literal keywords tried with rapidfuzz when no exact rule of that intent fired (typos).
FUZZY_KEYWORDS: dict[Intent, tuple[str, ...]] = {
    I.GREETING: ("สวัสดี",),
    I.PRICE: ("ราคาเท่าไหร่", "เท่าไหร่"),
    I.VIEW_CART: ("ตะกร้า",),
    I.CANCEL: ("ยกเลิก", "ยกเลิกออเดอร์"),
    I.THANKS_BYE: ("ขอบคุณ",),
    I.TALK_TO_STAFF: ("แอดมิน", "พนักงาน", "เจ้าหน้าที่"),
    I.RECOMMENDATION: ("แนะนำ",),
    I.CHECKOUT: ("ชำระเงิน",),
    I.ORDER_STATUS: ("สถานะ", "เลขพัสดุ"),
    I.PAYMENT_QUESTION: ("พร้อมเพย์", "เลขบัญชี", "บัตรเครดิต"),
}

# Sentences per intent for the encoder fallback (written for this module, not taken from the test set).
EXEMPLARS: dict[Intent, tuple[str, ...]] = {
    I.GREETING: ("สวัสดีค่ะ", "หวัดดีครับ มีคนอยู่ไหม", "hello there", "สวัสดีตอนบ่าย", "good evening shop"),
    I.PRODUCT_QUESTION: ("เกมนี้เล่นยังไง", "เกมนี้เหมาะกับอายุเท่าไร", "อยากรู้รายละเอียดของเกมนี้",
                         "what are the rules of this game", "เกมนี้ใช้เวลาเล่นนานเท่าไร",
                         "is this game hard to learn", "ในกล่องมีอุปกรณ์อะไรบ้าง", "กล่องบุบหรือเปล่า"),
    I.PRICE: ("เกมนี้ราคาเท่าไร", "ขายกี่บาท", "how much does it cost", "มีโปรโมชั่นลดราคาไหม",
              "what is the price"),
    I.AVAILABILITY: ("มีของในสต็อกไหม", "สินค้ายังเหลืออยู่ไหม", "is it in stock", "ของหมดหรือยัง",
                     "do you sell this game", "สินค้าจะเข้าเมื่อไร"),
    I.RECOMMENDATION: ("ช่วยแนะนำบอร์ดเกมให้หน่อย", "อยากได้เกมไปเล่นกับเพื่อน", "which game should I buy",
                       "เกมไหนสนุกบ้าง", "หาเกมให้ลูกเล่น", "help me choose a game", "เกมสำหรับงานปาร์ตี้"),
    I.ADD_TO_CART: ("ขอซื้อเกมนี้", "ใส่ตะกร้าให้หน่อย", "add this to my cart", "เอาเกมนี้หนึ่งกล่อง",
                    "I would like to order this one"),
    I.CHANGE_CART: ("เปลี่ยนจำนวนในตะกร้า", "แก้จำนวนสินค้า", "change the quantity", "ขอเพิ่มจำนวน"),
    I.REMOVE_FROM_CART: ("ลบสินค้าออกจากตะกร้า", "ไม่เอาเกมนี้แล้ว เอาออก", "remove this item from the cart"),
    I.VIEW_CART: ("ดูสินค้าในตะกร้า", "ยอดรวมเท่าไร", "show my cart", "what have I ordered so far"),
    I.CHECKOUT: ("ขอชำระเงิน", "สั่งซื้อเลย", "proceed to checkout", "พร้อมจ่ายเงินแล้ว", "I am ready to pay"),
    I.SHIPPING_DETAILS: ("ที่อยู่จัดส่งของฉัน", "ส่งของมาที่บ้าน", "จะมารับสินค้าเองที่ร้าน",
                         "my delivery address is", "เบอร์โทรติดต่อ"),
    I.PAYMENT_QUESTION: ("จ่ายเงินช่องทางไหนได้บ้าง", "โอนเงินเรียบร้อยแล้ว", "ส่งหลักฐานการโอนแล้ว",
                         "can I pay with a credit card", "ขอเลขบัญชีธนาคาร", "I have transferred the money"),
    I.ORDER_STATUS: ("สินค้าจัดส่งหรือยัง", "ตรวจสอบสถานะคำสั่งซื้อ", "where is my parcel", "พัสดุถึงไหนแล้ว",
                     "has my order been shipped", "when will my order arrive"),
    I.CANCEL: ("ยกเลิกคำสั่งซื้อ", "ไม่อยากซื้อแล้ว ยกเลิก", "cancel my order", "ขอเงินคืน"),
    I.TALK_TO_STAFF: ("ขอคุยกับพนักงาน", "ติดต่อเจ้าหน้าที่", "I want to talk to a person", "มีปัญหาอยากร้องเรียน",
                      "can a real person answer me"),
    I.THANKS_BYE: ("ขอบคุณมากค่ะ", "แล้วเจอกันใหม่", "thank you, goodbye", "ลาก่อน"),
    I.CONFIRM: ("ใช่ค่ะ ถูกต้อง", "ตกลงตามนั้น", "yes please", "โอเคเลย"),
    I.DENY: ("ไม่ค่ะ", "ไม่ต้องการ", "no thanks", "ยังไม่เอา"),
    # Off-topic messages, so that they land here instead of on the nearest shop intent.
    I.UNKNOWN: ("วันนี้อากาศเป็นยังไง", "ร้านเปิดกี่โมง", "ร้านอยู่ที่ไหน", "เล่าเรื่องตลกให้ฟังหน่อย",
                "ช่วยทำการบ้านให้หน่อย", "what is the weather today", "ใครชนะฟุตบอลเมื่อคืน", "ข่าววันนี้มีอะไร"),
}

_COMPILED: dict[Intent, list[tuple[re.Pattern[str], bool, float]]] = {
    intent: [
        (re.compile(rf"\b(?:{pattern})\b") if pattern.isascii() else re.compile(pattern), pattern.isascii(), weight)
        for pattern, weight in rules
    ]
    for intent, rules in RULES.items()
}


# Requests that a negation turns into a refusal: "ไม่ยกเลิกแล้ว", "ไม่สนใจ", "ไม่ถูกต้อง", "don't cancel".
NEGATABLE = (I.CANCEL, I.REMOVE_FROM_CART, I.ADD_TO_CART, I.CONFIRM, I.CHECKOUT)
_NEGATED_TH = re.compile(r"(?:ไม่|อย่า)(?:ได้|ต้อง|อยาก|ขอ|คิด|จำเป็นต้อง)?(?:จะ)?$")
_NEGATED_EN = re.compile(r"\b(?:not|don'?t|do not|no need to|never)\s*$")


def _negated(text: str, start: int, ascii_rule: bool) -> bool:
    return (_NEGATED_EN if ascii_rule else _NEGATED_TH).search(text[:start]) is not None


def rule_scores(compact: str, spaced: str, negated: dict[Intent, float] | None = None) -> dict[Intent, float]:
    """Sum of rule weights per intent; `compact` has no spaces, `spaced` keeps them (for English).

    A request keyword right after a negation ("ไม่ยกเลิก") does not count for its intent; when
    `negated` is given, the weight it would have had is recorded there instead.
    """
    scores: dict[Intent, float] = {}
    for intent, rules in _COMPILED.items():
        total = 0.0
        for pattern, ascii_rule, weight in rules:
            text = spaced if ascii_rule else compact
            if intent not in NEGATABLE:
                total += weight if pattern.search(text) else 0.0
                continue
            matches = [match.start() for match in pattern.finditer(text)]
            if any(not _negated(text, start, ascii_rule) for start in matches):
                total += weight
            elif matches and negated is not None:
                negated[intent] = max(negated.get(intent, 0.0), weight)
        if total:
            scores[intent] = total
    return scores


def fuzzy_scores(compact: str, already: dict[Intent, float]) -> dict[Intent, float]:
    """Scores from misspelt keywords ("ยกเลืก", "ขอบคุง") for intents no exact rule found."""
    from rapidfuzz import fuzz

    found: dict[Intent, float] = {}
    if len(compact) < 4:
        return found
    for intent, keywords in FUZZY_KEYWORDS.items():
        if intent in already:
            continue
        for keyword in keywords:
            if len(keyword) > len(compact) + 1:
                continue
            if fuzz.partial_ratio(keyword, compact) >= 80:
                found[intent] = 2.0
                break
    return found
