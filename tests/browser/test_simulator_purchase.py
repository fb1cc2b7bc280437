"""A whole purchase in the chat page against the real service: find a game, add it to the cart, check
out for pickup, confirm, pay the PromptPay QR with the simulated bank, get the receipt.

It follows the shop's buttons by their postback action (a=add, a=checkout, a=pickup, a=confirm), not by
their wording. It skips while `bot.turn` is still the placeholder echo turn: it needs the shop conversation.
"""
from __future__ import annotations

import pytest
from chat_steps import order_splendor_for_pickup
from shop_data import seed_shop
from simulator_bot import running_service

import bot.turn

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif("PLACEHOLDER" in (bot.turn.__doc__ or ""),
                                 reason="bot.turn is still the placeholder echo turn (shop conversation not merged)")]


def test_buy_a_game_and_pay_with_a_simulated_slip(page, db, shots):
    from playwright.sync_api import expect

    seed_shop(db)
    with running_service(db) as url:
        page.goto(url + "/sim/")
        order_splendor_for_pickup(page)
        page.locator(".pay-button").last.click()
        page.locator("#pay-submit").click()
        expect(page.locator(".row.bot", has_text="ชำระเงินเรียบร้อย").last).to_be_visible(timeout=30_000)
        page.screenshot(path=str(shots / "simulator-purchase.png"))
