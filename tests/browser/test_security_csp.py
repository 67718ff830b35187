"""The strict CSP in Chromium: the admin and the study page work under it and nothing is blocked.

A violation shows up twice: as a console error ("… violates the following Content Security
Policy directive …", caught by page_errors) and as a securitypolicyviolation event, which an
init script records in window.__csp.
"""

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def csp_page(page):
    page.context.add_init_script(RECORD_VIOLATIONS)
    messages = []
    page.on(
        "console",
        lambda msg: messages.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.csp_messages = messages
    return page


def assert_no_violation(page, page_errors, where):
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__csp || []")
    assert violations == [], f"{where}: {violations}"
    assert page.csp_messages == [], f"{where}: {page.csp_messages}"
    assert page_errors == [], f"{where}: {page_errors}"


@pytest.fixture
def seed_deck(db, seed_path):
    from django.core.management import call_command

    from cards.models import Deck

    call_command("import_deck", str(seed_path), "--public")
    return Deck.objects.get(name="Generative AI Flashcards")


def test_the_htmx_config_takes_effect(csp_page, live_server, owner, page_errors):
    log_in(csp_page, live_server, "alice")
    config = csp_page.evaluate(
        "({allowEval: htmx.config.allowEval, allowScriptTags: htmx.config.allowScriptTags,"
        " includeIndicatorStyles: htmx.config.includeIndicatorStyles,"
        " selfRequestsOnly: htmx.config.selfRequestsOnly,"
        " historyCacheSize: htmx.config.historyCacheSize,"
        " defaultSettleDelay: htmx.config.defaultSettleDelay})"
    )
    assert config == {
        "allowEval": False,
        "allowScriptTags": False,
        "includeIndicatorStyles": False,
        "selfRequestsOnly": True,
        "historyCacheSize": 0,
        "defaultSettleDelay": 0,
    }
    # With includeIndicatorStyles off, htmx adds no <style> element (the CSP would block it).
    assert csp_page.evaluate("document.querySelectorAll('style').length") == 0
    assert_no_violation(csp_page, page_errors, "dashboard")


def test_the_study_page_works_under_the_csp(csp_page, live_server, owner, seed_deck, page_errors):
    log_in(csp_page, live_server, "alice")
    csp_page.goto(f"{live_server.url}/decks/{seed_deck.pk}/study/")
    for _ in range(3):
        token = csp_page.input_value("#study-card input[name=token]")
        csp_page.keyboard.press("Space")
        csp_page.wait_for_selector("#study-answer:not([hidden])")
        csp_page.keyboard.press("4")
        csp_page.wait_for_function(
            "old => { const t = document.querySelector('#study-card input[name=token]');"
            " return !t || t.value !== old; }",
            arg=token,
        )
    csp_page.keyboard.press("z")  # undo, over htmx
    csp_page.wait_for_load_state("networkidle")
    from cards.models import ReviewLog

    assert ReviewLog.objects.filter(user=owner).count() == 2
    assert_no_violation(csp_page, page_errors, "study")


def _admin_urls(staff):
    """Every registered model's list, add and change pages, and every other page of the
    project's admin (read from the URL resolver, so new ones are visited too)."""
    from django.contrib import admin
    from django.test import Client
    from django.urls import reverse

    from tests.security.urlwalk import all_routes

    urls = ["/admin/", "/admin/password_change/"]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(_FakeRequest()):
            urls.append(reverse(f"{prefix}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{prefix}_change", args=[first.pk]))
    for route in all_routes():
        if route.template.startswith("admin/cards/") and not route.params:
            urls.append(route.id)
    client = Client()
    client.force_login(staff)
    return [url for url in dict.fromkeys(urls) if client.get(url).status_code == 200]


class _FakeRequest:
    class user:  # noqa: N801 - a stand-in with the attributes has_add_permission reads
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(perm, obj=None):
            return True


def test_the_admin_works_under_the_csp(csp_page, live_server, staff, seed_deck, page_errors):
    from cards.models import Card

    csp_page.goto(f"{live_server.url}/admin/login/")
    csp_page.fill("input[name=username]", "carol")
    from tests.conftest import PASSWORD

    csp_page.fill("input[name=password]", PASSWORD)
    csp_page.click("input[type=submit]")
    csp_page.wait_for_url(f"{live_server.url}/admin/")
    urls = _admin_urls(staff)
    assert len(urls) >= 15
    for url in urls:
        response = csp_page.goto(f"{live_server.url}{url}")
        assert response.status == 200, url
        assert_no_violation(csp_page, page_errors, url)

    # The admin's own scripts run: select-all on a change list and the collapsible filter.
    csp_page.goto(f"{live_server.url}/admin/cards/card/")
    csp_page.check("#action-toggle")
    assert csp_page.locator("input.action-select:checked").count() > 0
    # The project's fill-answers page: its Markdown preview comes over htmx.
    blank = Card.objects.filter(deck=seed_deck, answer="").first()
    csp_page.goto(f"{live_server.url}/admin/cards/card/fill-answers/")
    textarea = csp_page.locator("textarea").first
    if blank is not None and textarea.count():
        textarea.fill("**bold** answer")
        csp_page.wait_for_selector("strong:has-text('bold')", timeout=5000)
    assert_no_violation(csp_page, page_errors, "admin interactions")


def test_the_csp_blocks_injected_inline_code(csp_page, live_server, owner, page_errors):
    """A control: were sanitising ever to fail, the policy still stops inline code and styles."""
    log_in(csp_page, live_server, "alice")
    csp_page.evaluate(
        """() => {
        document.body.insertAdjacentHTML('beforeend',
          '<img src="/static/favicon.svg" onload="window.__ran = 1">');
        const s = document.createElement('script'); s.textContent = 'window.__ran = 2';
        document.body.append(s);
        document.body.insertAdjacentHTML('beforeend', '<p style="color: red">styled</p>');
        }"""
    )
    csp_page.wait_for_load_state("networkidle")
    csp_page.wait_for_timeout(200)
    assert csp_page.evaluate("window.__ran") is None
    violations = "\n".join(csp_page.evaluate("window.__csp"))
    assert "script-src" in violations  # the handler and the inline script
    assert "style-src" in violations  # the style attribute
    assert any("Content Security Policy" in text for text in csp_page.csp_messages)


def test_an_aligned_markdown_table_renders_without_a_violation(
    csp_page, live_server, owner, page_errors
):
    from cards.models import Card, Deck

    deck = Deck.objects.create(owner=owner, name="Tables")
    Card.objects.create(deck=deck, question="| a | b |\n|:--|--:|\n| 1 | 2 |", answer="x")
    log_in(csp_page, live_server, "alice")
    csp_page.goto(f"{live_server.url}/decks/{deck.pk}/")
    assert_no_violation(csp_page, page_errors, "aligned table")


def test_the_lockout_page(csp_page, live_server, owner, other, page_errors):
    from django.conf import settings

    for _ in range(settings.AXES_FAILURE_LIMIT):
        csp_page.goto(f"{live_server.url}/accounts/login/")
        csp_page.fill("input[name=username]", "alice")
        csp_page.fill("input[name=password]", "not her password")
        response_info = csp_page.expect_response(lambda r: r.request.method == "POST")
        with response_info as info:
            csp_page.click("button[type=submit]")
    assert info.value.status == 429
    assert csp_page.get_by_role("heading", name="Too many log-in attempts").is_visible()
    assert "Try again in 15 minutes" in csp_page.inner_text("main")
    page_errors[:] = [e for e in page_errors if "429" not in e]  # the browser logs the status
    assert_no_violation(csp_page, page_errors, "lockout")
    log_in(csp_page, live_server, "bob")  # someone else, same browser and address
