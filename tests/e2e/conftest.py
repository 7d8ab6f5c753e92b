"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Chromium resolves every *.localhost name to the loopback, so each tenant gets its own host name
on the live server's port, as in the demo.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.urls import reverse

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_context():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run bin/system-deps --test (Debian package chromium)")
    # Playwright's sync API runs an event loop; Django must still allow its ORM calls here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="portal-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            locale="pt-BR",
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context):
    browser_context.clear_cookies()
    page = browser_context.new_page()
    page.set_default_timeout(10_000)
    yield page
    page.close()


def screenshot(page, name: str) -> Path:
    """Kept under var/screenshots for a person to look at (not asserted on)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (WCAG 2.1 A/AA and best practices).

    Evaluated through the DevTools protocol, which the page's CSP does not govern: the page
    under test keeps its own policy.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
        }""",
        AXE_TAGS,
    )


AXE_COUNTS: dict[str, dict[str, int]] = {}


def assert_accessible(page, name: str) -> list[dict]:
    """No serious or critical axe violation; every violation is counted for the report."""
    violations = axe_violations(page)
    counts: dict[str, int] = {}
    for violation in violations:
        counts[violation["impact"] or "minor"] = counts.get(violation["impact"] or "minor", 0) + 1
    AXE_COUNTS[name] = counts
    print(f"axe {name}: {counts or 'no violations'}")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, f"axe on {name}: {serious}"
    return violations


def check_both_widths(page, name: str, url: str | None = None) -> dict[str, Path]:
    """The page at 1280 and at 375 px: a screenshot of each and axe on each."""
    shots = {}
    for label, size in (("1280", DESKTOP), ("375", PHONE)):
        page.set_viewport_size(size)
        if url is not None:
            page.goto(url)
        shots[label] = screenshot(page, f"{name}-{label}")
        assert_accessible(page, f"{name}@{label}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} scrolls sideways at {label} px ({width}px)"
    page.set_viewport_size(DESKTOP)
    return shots


def log_in(page, base_url, email, password):
    page.goto(base_url + reverse("login"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
