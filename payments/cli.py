"""`salesbot promptpay` (make a PromptPay QR) and `salesbot slip read` (read a slip QR)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from shop.money import baht_to_satang


@click.command()
@click.argument("target")
@click.option("--amount", help="Amount in baht, e.g. 1260.00 (omit for a static QR).")
@click.option("--payload", "payload_only", is_flag=True, help="Print only the payload string.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the QR as PNG.")
@click.option("--caption", help="Text under the code, e.g. the shop name.")
def promptpay(target: str, amount: str | None, payload_only: bool, output: Path | None, caption: str | None) -> None:
    """Build the PromptPay payload (and QR image) for TARGET: mobile, national/tax ID or e-wallet ID."""
    from payments.promptpay import build_payload, format_amount, parse_payload

    try:
        amount_satang = baht_to_satang(amount) if amount is not None else None
        payload = build_payload(target, amount_satang)
    except (ValueError, TypeError) as error:
        raise click.BadParameter(str(error)) from None
    if payload_only:
        click.echo(payload)
        return
    parsed = parse_payload(payload)
    click.echo(f"target:  {parsed.target.kind} {parsed.target.digits}")
    click.echo(f"amount:  {format_amount(amount_satang) if amount_satang else '(customer enters it)'}")
    click.echo(f"payload: {payload}")
    if output:
        from payments.qr_image import render_qr_png

        png = render_qr_png(payload, amount_satang=amount_satang, caption=caption)
        output.write_bytes(png)
        click.echo(f"wrote {output} ({len(png):,} bytes)")


@click.group()
def slip() -> None:
    """Bank-transfer slips."""


@slip.command("read")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the reading as JSON.")
def read(source: str, as_json: bool) -> None:
    """Read the slip QR in an image file, or check a payload string given directly."""
    from payments.slip_qr import read_slip_image, read_slip_text

    path = Path(source)
    if path.is_file():
        reading = read_slip_image(path.read_bytes())
    elif source.startswith("00") and len(source) > 20:
        reading = read_slip_text(source)
    else:
        raise click.BadParameter(f"{source!r} is neither a readable file nor a QR payload", param_hint="SOURCE")
    if as_json:
        click.echo(json.dumps(reading.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"kind:         {reading.kind}")
        click.echo(f"valid:        {'yes' if reading.valid else 'no'}")
        click.echo(f"sending_bank: {reading.sending_bank or '-'}")
        click.echo(f"trans_ref:    {reading.trans_ref or '-'}")
        click.echo(f"payload:      {reading.payload or '-'}")
        if not reading.valid:
            click.echo(f"reason:       {reading.reason}: {reading.detail}")
    if not reading.valid:
        sys.exit(1)
