"""Sign-up in a real browser with JavaScript off: the site must work as plain HTML forms.

The texts asserted on are the catalogs' translations (translations/*/LC_MESSAGES/messages.po),
so a missing or broken translation fails here.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import User

from ..support.web import PASSWORD

pytestmark = pytest.mark.browser


def count_users(server) -> int:
    with server.app.app_context():
        return len(db.session.scalars(select(User)).all())


def test_sign_up_and_verify_in_spanish_without_javascript(browser, live_server):
    with browser.new_context(java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/?lang=es", wait_until="load")
        page.get_by_role("main").get_by_role("link", name="Crear una cuenta").click()

        expect(page).to_have_url(f"{live_server.url}/account/sign-up")
        expect(page.get_by_role("heading", level=1)).to_have_text("Crear una cuenta")
        page.get_by_label("Número de celular").fill("312 555 0142")
        page.get_by_label("Cree una contraseña").fill(PASSWORD)
        page.get_by_label("Acepto los términos de uso y el aviso de privacidad.").check()
        page.get_by_role("button", name="Crear cuenta", exact=True).click()

        expect(page).to_have_url(f"{live_server.url}/account/verify")
        expect(page.get_by_role("heading", level=1)).to_have_text("Revise su teléfono")
        expect(page.get_by_role("status")).to_have_text(
            "Se creó su cuenta. Le enviamos un código a su teléfono."
        )

        page.goto(f"{live_server.url}/dev/outbox", wait_until="load")
        newest = page.locator(".outbox .message .body").first
        assert newest.get_attribute("lang") == "es"
        body = newest.inner_text()
        assert "código" in body, body
        match = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
        assert match, body

        page.goto(f"{live_server.url}/account/verify", wait_until="load")
        page.get_by_label("Código de 6 dígitos").fill(match.group(1))
        page.get_by_role("button", name="Verificar número de teléfono").click()

        expect(page).to_have_url(f"{live_server.url}/account/")
        expect(page.get_by_role("status")).to_have_text("Se verificó su número de teléfono.")
        expect(page.get_by_role("heading", level=1)).to_have_text("Su cuenta")

    with live_server.app.app_context():
        user = db.session.scalar(select(User))
        assert user.phone == "+13125550142"
        assert user.phone_verified
        assert user.locale == "es"


def test_too_short_password_in_arabic_shows_the_error_summary(browser, live_server):
    with browser.new_context(java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/account/sign-up?lang=ar", wait_until="load")
        page.get_by_label("رقم الهاتف المحمول").fill("312 555 0142")
        page.get_by_label("أنشئ كلمة مرور").fill("short")
        page.get_by_label("أوافق على شروط الاستخدام وإشعار الخصوصية.").check()
        page.get_by_role("button", name="إنشاء حساب", exact=True).click()

        expect(page).to_have_title(re.compile(r"^خطأ:"))  # the page with the errors
        html = page.locator("html")
        assert html.get_attribute("dir") == "rtl"
        assert html.get_attribute("lang") == "ar"

        summary = page.get_by_role("alert")
        expect(summary.get_by_role("heading")).to_have_text("هناك مشكلة")
        link = summary.get_by_role("link", name="يجب أن يتراوح عدد أحرف كلمة المرور بين 10 و128.")
        assert link.get_attribute("href") == "#password"

        password = page.get_by_label("أنشئ كلمة مرور")
        assert password.get_attribute("aria-invalid") == "true"
        assert page.get_by_label("رقم الهاتف المحمول").input_value() == "312 555 0142"
        assert count_users(live_server) == 0

        # On a small screen the field is below the fold; following the link brings it into
        # view and focuses it, without any JavaScript.
        page.set_viewport_size({"width": 360, "height": 480})
        expect(password).not_to_be_in_viewport()
        link.click()
        assert page.url.endswith("#password")
        expect(password).to_be_focused()
        expect(password).to_be_in_viewport()
