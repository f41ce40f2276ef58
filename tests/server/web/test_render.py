"""Safe Markdown rendering: nothing a document says can run in the page or reach another host."""

from __future__ import annotations

from lore.server.web.render import render_markdown


def test_raw_html_is_escaped_not_passed_through() -> None:
    html = render_markdown("# T <script>window.pwned=1</script>\n\n<img src=x onerror=alert(1)>\n",
                           "a.md")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_javascript_links_are_not_links() -> None:
    html = render_markdown("[click](javascript:alert(1)) [d](data:text/html,x)", "a.md")
    assert 'href="javascript:' not in html and 'href="data:' not in html


def test_images_never_load_from_anywhere() -> None:
    html = render_markdown("![diagram](https://example.com/d.png) ![local](img/l.png)", "a.md")
    assert "<img" not in html
    assert "diagram" in html and "local" in html


def test_relative_markdown_links_become_in_page_links() -> None:
    html = render_markdown("[sibling](../task/T-2_x.md#goal) [up](../../../../outside.md)",
                           "items/feature/F-1.md")
    assert 'data-doc="items/task/T-2_x.md"' in html
    assert html.count("data-doc=") == 1     # a link out of the folder stays a plain link


def test_external_links_open_without_referrer() -> None:
    html = render_markdown("[site](https://example.com/x)", "a.md")
    assert 'href="https://example.com/x"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
