import pytest


@pytest.fixture
def page(browser):
    """A fresh page. The test fails if the page threw an uncaught error or the browser refused
    something under the Content-Security-Policy (a script, a style, an eval, a frame)."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"console: {message.text}")

    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("console", on_console)
    yield page
    context.close()
    if problems:
        pytest.fail("the browser reported:\n" + "\n".join(problems))
