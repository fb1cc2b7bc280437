"""The catalogue: search and list products, edit one, import a CSV (upload → preview → confirm) and
export it. Edits go through shop.catalog_csv's own preview and commit (one row), so the back office and
the CSV file accept exactly the same values; the search index refreshes by itself (mapper events)."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from admin.web import actor, bp, database, page_number
from shop import audit, catalog_csv
from shop.backoffice import _contains
from shop.models import Product
from shop.money import format_baht, satang_to_decimal

PER_PAGE = 30
MAX_CSV_BYTES = 2_000_000  # the preview carries the file back in a hidden field: app MAX_FORM_MEMORY_SIZE is larger
EDITABLE = ("name_th", "name_en", "price_thb", "sale_price_thb", "stock", "image_url", "aliases", "bgg_id", "active")
COLUMNS_TH = {"sku": "SKU", "name_th": "ชื่อภาษาไทย", "name_en": "ชื่อภาษาอังกฤษ", "price_thb": "ราคา",
              "sale_price_thb": "ราคาลด", "stock": "คงเหลือ", "image_url": "ลิงก์รูป", "aliases": "ชื่อเรียกอื่น",
              "active": "เปิดขาย", "-": "ทั้งแถว", "min_players": "ผู้เล่นน้อยสุด", "max_players": "ผู้เล่นมากสุด",
              "min_minutes": "เวลาเล่นน้อยสุด", "max_minutes": "เวลาเล่นมากสุด", "min_age": "อายุขั้นต่ำ",
              "category": "หมวดหมู่", "bgg_id": "รหัส BoardGameGeek"}
PROBLEMS_TH = {  # shop.catalog_csv's messages, as staff read them (any other is shown as it is)
    "not a price in baht, e.g. 1290 or 1,290.50": "ไม่ใช่ราคาเป็นบาท (เช่น 1290 หรือ 1,290.50)",
    "must not be negative": "ติดลบไม่ได้", "must be a whole number (0 or more)": "ต้องเป็นจำนวนเต็ม 0 ขึ้นไป",
    "longer than 300 characters": "ยาวเกิน 300 ตัวอักษร", "is required": "ต้องกรอก",
    "must be an https:// address (LINE shows only HTTPS pictures)":
        "ต้องเป็นลิงก์ https:// (LINE แสดงรูปจากลิงก์ https เท่านั้น)",
    "must be yes or no": "ต้องเป็น yes หรือ no", "is higher than price_thb": "สูงกว่าราคาปกติ",
    "more cells than the header has columns": "มีช่องมากกว่าคอลัมน์ในบรรทัดแรก",
    "must be 1–64 letters, digits, - _ or .": "ต้องเป็นตัวอักษรอังกฤษ ตัวเลข - _ หรือ . ยาว 1–64 ตัว",
    "a new product needs name_en or name_th": "สินค้าใหม่ต้องมีชื่อภาษาไทยหรือภาษาอังกฤษ",
    "a new product needs a price": "สินค้าใหม่ต้องมีราคา",
}


@bp.app_template_filter("csv_column")
def _column_th(column: str) -> str:
    return COLUMNS_TH.get(column, column)


FIELDS_TH = {"name_th": "ชื่อภาษาไทย", "name_en": "ชื่อภาษาอังกฤษ", "list_price_satang": "ราคา",
             "sale_price_satang": "ราคาลด", "stock": "คงเหลือ", "image_url": "ลิงก์รูป", "aliases": "ชื่อเรียกอื่น",
             "active": "เปิดขาย", "category_th": "หมวดหมู่", "game_id": "รหัส BoardGameGeek",
             "min_players": "ผู้เล่นน้อยสุด", "max_players": "ผู้เล่นมากสุด", "min_minutes": "เวลาเล่นน้อยสุด",
             "max_minutes": "เวลาเล่นมากสุด", "min_age": "อายุขั้นต่ำ"}


@bp.app_template_filter("product_change")
def _product_change(change: tuple[str, tuple]) -> tuple[str, str, str]:
    """(Thai field name, before, after) of one change in an import preview, money in baht."""
    name, (before, after) = change

    def shown(value) -> str:
        if value is None or value == "":
            return "-"
        if name.endswith("_satang"):
            return format_baht(int(value))
        if isinstance(value, bool):
            return "ใช่" if value else "ไม่"
        if isinstance(value, list):
            return " | ".join(value) or "-"
        return str(value)

    return FIELDS_TH.get(name, name), shown(before), shown(after)


@bp.app_template_filter("csv_problem")
def _problem_th(message: str) -> str:
    return PROBLEMS_TH.get(message, message)


@bp.get("/products")
def product_list():
    text = " ".join((request.args.get("q") or "").split())[:100]
    condition = or_(_contains(Product.sku, text), _contains(Product.name_en, text),
                    _contains(Product.name_th, text)) if text else True
    with database().session() as session:
        total = session.scalar(select(func.count()).select_from(Product).where(condition)) or 0
        pages = max(1, -(-total // PER_PAGE))
        page = min(page_number(), pages)
        products = session.scalars(select(Product).where(condition).order_by(Product.sku)
                                   .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
        return render_template("admin/products.html", products=products, q=text, total=total, page=page, pages=pages)


def _form_values(product: Product) -> dict[str, str]:
    return {"name_th": product.name_th, "name_en": product.name_en,
            "price_thb": str(satang_to_decimal(product.list_price_satang)),
            "sale_price_thb": "" if product.sale_price_satang is None else str(satang_to_decimal(product.sale_price_satang)),
            "stock": str(product.stock), "image_url": product.image_url,
            "aliases": " | ".join(a.alias for a in product.aliases), "bgg_id": str(product.game_id or ""),
            "active": "yes" if product.active else "no"}


def _one_row_csv(sku: str, values: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("sku", *EDITABLE))
    writer.writerow((sku, *(values[name] for name in EDITABLE)))
    return out.getvalue()


def _product_page(product_id: int, values: dict[str, str] | None = None, problems=(), status: int = 200):
    with database().session() as session:
        product = session.get(Product, product_id)
        if product is None:
            abort(404)
        history, _ = audit.entries(session, subject_key=product.sku, per_page=50)
        return render_template("admin/product.html", product=product, values=values or _form_values(product),
                               problems=problems, history=history), status


@bp.get("/products/<int:product_id>")
def product_page(product_id: int):
    return _product_page(product_id)


@bp.post("/products/<int:product_id>")
def product_edit(product_id: int):
    values = {name: (request.form.get(name) or "").strip() for name in EDITABLE}
    values["active"] = "yes" if request.form.get("active") else "no"
    with database().session() as session:
        product = session.get(Product, product_id)
        if product is None:
            abort(404)
        sku = product.sku
        plan = catalog_csv.preview(session, _one_row_csv(sku, values))
        if plan.refused or plan.problems:
            session.rollback()
            problems = plan.problems or [catalog_csv.Problem(2, "-", plan.refused)]
        else:
            changes = plan.rows[0].changes
            if changes:
                catalog_csv.commit(session, plan)  # sets revised_at: the search index refreshes by itself
                audit.record(session, actor(), "product.edit", "product", sku,
                             {name: before for name, (before, _) in changes.items()},
                             {name: after for name, (_, after) in changes.items()})
            flash(f"บันทึกสินค้า {sku} แล้ว" if changes else "ไม่มีอะไรเปลี่ยนแปลง", "ok")
            return redirect(url_for("admin.product_page", product_id=product_id))
    return _product_page(product_id, values, problems, 400)


@bp.get("/products/export")
def product_export():
    with database().session() as session:
        text = catalog_csv.export(session)
    return Response(text, mimetype="text/csv", content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="catalogue.csv"'})


@bp.get("/products/import")
def product_import_form():
    return render_template("admin/product_import.html", max_bytes=MAX_CSV_BYTES)


def _csv_refused(message: str):
    flash(message, "error")
    return redirect(url_for("admin.product_import_form"))


@bp.post("/products/import")
def product_import_preview():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _csv_refused("กรุณาเลือกไฟล์ CSV")
    data = upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return _csv_refused(f"ไฟล์ใหญ่เกินไป (ไม่เกิน {MAX_CSV_BYTES // 1_000_000} MB)")
    try:
        text = catalog_csv.decode(data)
    except ValueError:
        return _csv_refused("ไฟล์นี้ไม่ใช่ UTF-8 กรุณาบันทึกจาก Excel แบบ “CSV UTF-8” แล้วลองอีกครั้ง")
    deactivate = bool(request.form.get("deactivate_missing"))
    with database().session() as session:
        plan = catalog_csv.preview(session, text, deactivate_missing=deactivate)
        session.rollback()
    return render_template("admin/product_preview.html", plan=plan, csv_text=text, deactivate=deactivate,
                           filename=upload.filename[:200])


@bp.post("/products/import/commit")
def product_import_commit():
    text = request.form.get("csv_text", "")
    if not text or len(text.encode()) > MAX_CSV_BYTES:
        return _csv_refused("ไม่พบไฟล์ที่จะนำเข้า กรุณาอัปโหลดใหม่")
    deactivate = bool(request.form.get("deactivate_missing"))
    with database().session() as session:
        plan = catalog_csv.preview(session, text, deactivate_missing=deactivate)  # again: the shop may have changed
        if plan.refused:
            session.rollback()
            return _csv_refused("ไฟล์ถูกปฏิเสธ: " + plan.refused)
        catalog_csv.commit(session, plan)
        counts = plan.counts
        audit.record(session, actor(), "catalog.import", "catalog", "csv", None,
                     {**counts, "problem_rows": len({p.line for p in plan.problems}), "hidden": len(plan.missing)},
                     detail=plan.summary())
    return render_template("admin/product_imported.html", plan=plan)
