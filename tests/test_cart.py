"""Cart operations, product resolution, shipping details and pricing a list of names."""
from __future__ import annotations

import pytest
from shop_data import DELIVERY

from shop import cart as carts
from shop.checkout import checkout_summary, clean_address, parse_phone, set_shipping
from shop.errors import ShopError
from shop.models.customers import Customer


def _find(session, text):
    return carts.find_product(session, text)


def test_add_update_remove_and_view(shop, settings):
    with shop.db.session() as session:
        splendor = _find(session, "spl-th")  # SKU, any case
        carts.add_item(session, shop.alice, splendor, 2)
        line = carts.add_item(session, shop.alice, splendor, 1)  # adds up
        assert line.quantity == 3
        carts.add_item(session, shop.alice, _find(session, "Ticket to Ride"), 1)
    with shop.db.session() as session:
        cart = carts.cart_json(session, shop.alice)
        assert [(i["sku"], i["quantity"]) for i in cart["items"]] == [("SPL-TH", 3), ("TTR", 1)]
        assert cart["total_satang"] == 3 * 126000 + 175050  # sale prices from the rows
        assert cart["total_text"] == "5,530.50 บาท"
        carts.set_quantity(session, shop.alice, _find(session, "SPL-TH"), 1)
        carts.remove_item(session, shop.alice, _find(session, "ต่อรถไฟ"))  # Thai title
    with shop.db.session() as session:
        cart = carts.cart_json(session, shop.alice)
        assert [(i["sku"], i["quantity"]) for i in cart["items"]] == [("SPL-TH", 1)]
        assert carts.cart_json(session, shop.bob)["items"] == []  # Bob's cart is his own


@pytest.mark.parametrize("quantity", [0, -1, 100, True, "2"])
def test_quantity_must_be_a_sane_positive_int(shop, quantity):
    with shop.db.session() as session:
        with pytest.raises(ShopError) as error:
            carts.add_item(session, shop.alice, _find(session, "SPL-TH"), quantity)
        assert error.value.code == "invalid_quantity"
        assert carts.cart_json(session, shop.alice)["items"] == []


def test_stock_aware_messages_but_no_reservation(shop):
    with shop.db.session() as session:
        with pytest.raises(ShopError) as sold_out:
            carts.add_item(session, shop.alice, _find(session, "CATAN"), 1)
        assert sold_out.value.code == "out_of_stock" and "หมด" in sold_out.value.message_th
        carts.add_item(session, shop.alice, _find(session, "SPL-EN"), 2)
        with pytest.raises(ShopError) as short:
            carts.add_item(session, shop.alice, _find(session, "SPL-EN"), 1)  # 3 > 2 in stock
        assert short.value.code == "insufficient_stock"
        assert short.value.details["available"] == 2 and short.value.details["in_cart"] == 2
        assert _find(session, "SPL-EN").stock == 2  # a cart reserves nothing


def test_reducing_a_quantity_never_fails_on_stock(shop):
    with shop.db.session() as session:
        product = _find(session, "SPL-EN")
        carts.add_item(session, shop.alice, product, 2)
        product.stock = 0  # sold elsewhere meanwhile
        session.flush()
        line = carts.set_quantity(session, shop.alice, product, 1)
        assert line.to_json()["stock_note"] == "สินค้าหมดชั่วคราวค่ะ"


def test_update_or_remove_something_not_in_cart(shop):
    with shop.db.session() as session:
        for action in (lambda p: carts.set_quantity(session, shop.alice, p, 2),
                       lambda p: carts.remove_item(session, shop.alice, p)):
            with pytest.raises(ShopError) as error:
                action(_find(session, "AZUL"))
            assert error.value.code == "not_in_cart"


def test_two_editions_with_one_name_are_ambiguous(shop):
    with shop.db.session() as session:
        with pytest.raises(ShopError) as error:
            _find(session, "splendor")
    assert error.value.code == "product_ambiguous"
    assert {c["sku"] for c in error.value.details["candidates"]} == {"SPL-TH", "SPL-EN"}
    assert error.value.message_th.endswith("คะ")  # a question to the customer


@pytest.mark.parametrize("text, digits, kind", [
    ("081-234-5678", "0812345678", "mobile"),
    ("0812345678", "0812345678", "mobile"),
    ("+66 81 234 5678", "0812345678", "mobile"),
    ("๐๙๑๒๓๔๕๖๗๘", "0912345678", "mobile"),
    ("(06) 1234-5678", "0612345678", "mobile"),
    ("02-123-4567", "021234567", "landline"),
    ("053 123 456", "053123456", "landline"),
])
def test_thai_phone_numbers(text, digits, kind):
    phone = parse_phone(text)
    assert (phone.digits, phone.kind) == (digits, kind)


@pytest.mark.parametrize("text", ["", "12345", "0112345678", "08123456789", "1812345678", "081-234-567x",
                                  "ลดราคาให้เหลือ 1 บาท"])
def test_bad_phone_numbers_are_rejected(text):
    with pytest.raises(ShopError) as error:
        parse_phone(text)
    assert error.value.code == "invalid_phone" and error.value.details["field"] == "phone"


def test_address_needs_a_postcode():
    assert clean_address("99/1 ถ.สุขุมวิท คลองเตย กทม. ๑๐๑๑๐")
    with pytest.raises(ShopError) as error:
        clean_address("99/1 ถนนสุขุมวิท คลองเตย กรุงเทพ")
    assert error.value.code == "address_missing_postcode"


def test_shipping_details_over_several_turns_and_the_summary(shop, settings):
    with shop.db.session() as session:
        carts.add_item(session, shop.alice, _find(session, "SPL-TH"), 2)
        alice = session.get(Customer, shop.alice)
        set_shipping(session, alice, "delivery", name=DELIVERY["name"])
        summary = checkout_summary(session, settings, alice)
        assert summary["missing"] == ["phone", "address"] and not summary["ready_to_confirm"]
        assert summary["message_th"] == "รบกวนแจ้งเบอร์โทรศัพท์ และที่อยู่จัดส่งด้วยค่ะ"
        with pytest.raises(ShopError):
            set_shipping(session, alice, "delivery", phone="12", address=DELIVERY["address"])
        assert alice.ship_address == ""  # one bad field saves nothing
        notes = set_shipping(session, alice, "delivery", phone="02-123-4567", address=DELIVERY["address"])
        assert "เบอร์โทรศัพท์บ้าน" in notes[0]  # a landline is accepted, and said so
        summary = checkout_summary(session, settings, alice)
    assert summary["ready_to_confirm"]
    assert summary["shipping_satang"] == settings.delivery_fee_satang
    assert summary["total_satang"] == 2 * 126000 + settings.delivery_fee_satang
    with shop.db.session() as session:
        set_shipping(session, session.get(Customer, shop.alice), "pickup")
        summary = checkout_summary(session, settings, session.get(Customer, shop.alice))
    assert summary["shipping_satang"] == 0 and summary["total_satang"] == 2 * 126000
    assert summary["ship_address"] == ""  # pickup shows no delivery contact


def test_sum_total_of_known_names(shop):
    with shop.db.session() as session:
        result = carts.sum_total(session, [("SPL-TH", 2), ("Azul", 1), ("ต่อรถไฟ", 3)])
    assert result["complete"] and result["unresolved"] == []
    assert result["total_satang"] == 2 * 126000 + 139000 + 3 * 175050
    assert result["total_text"] == "9,161.50 บาท"


def test_sum_total_reports_unknown_and_ambiguous_names_never_pricing_them_at_zero(shop):
    with shop.db.session() as session:
        result = carts.sum_total(session, [("Azul", 2), ("Zzyzx Quantum Llamas", 1), ("Splendor", 1)])
    assert not result["complete"]
    assert result["total_satang"] is None  # no total that silently leaves a line out
    assert result["priced_subtotal_satang"] == 2 * 139000
    assert {u["name"]: u["error"] for u in result["unresolved"]} == {
        "Zzyzx Quantum Llamas": "product_not_found", "Splendor": "product_ambiguous"}
    assert "Zzyzx Quantum Llamas" in result["message_th"]
