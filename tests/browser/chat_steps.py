"""Steps a customer takes in the simulator's chat page, shared by the browser tests."""
from __future__ import annotations


def order_splendor_for_pickup(page) -> None:
    """Ask for Splendor and follow the shop's buttons (by postback action, not wording) to the PromptPay QR."""
    from playwright.sync_api import expect

    page.fill("#text-input", "มี Splendor ไหมคะ")
    page.press("#text-input", "Enter")
    for action in ("a=add", "a=checkout", "a=pickup", "a=confirm"):
        button = page.locator(f'[data-postback^="{action}"]').last
        expect(button).to_be_visible(timeout=30_000)
        button.click()
    expect(page.locator(".pay-button").last).to_be_visible(timeout=30_000)
