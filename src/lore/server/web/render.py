"""A document's Markdown as HTML that is safe to put into the page.

The files are the truth and anyone may have written them, so the renderer
treats them as untrusted: raw HTML is escaped rather than passed through
(markdown-it's ``html`` option off), ``javascript:`` and other unsafe links are
refused by markdown-it's own link validation, and images that would load
from another origin are shown as their alt text, so opening a document never
makes the browser contact anything but the lore server. Links to other
Markdown files in the folder become in-page links (``data-doc``), so a reader
can follow them without leaving the page.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict


def _is_local(url: str) -> bool:
    """True for a relative URL with no scheme and no host (``../a.md``, ``#h``)."""
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("//")


def _resolve(base_path: str, href: str) -> str | None:
    """The root-relative path a relative Markdown link points at, or None."""
    target = unquote(urlsplit(href).path)
    if not target or not target.lower().endswith((".md", ".markdown")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_path), target))
    return None if joined.startswith("..") else joined.lstrip("/")


class _SafeRenderer(RendererHTML):
    """markdown-it's HTML renderer with the two rules that could reach outside."""

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
              env: EnvType) -> str:
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children or [], options, env)
        # Remote images would contact another origin, and the server serves no
        # files of the folder, so an image is shown as its alt text.
        return f'<span class="img-omitted" title="image not loaded">{escape(alt)}</span>'

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
                  env: EnvType) -> str:
        token = tokens[idx]
        href = str(token.attrGet("href") or "")
        if _is_local(href):
            target = _resolve(str(env.get("path", "")), href)
            if target is not None:
                return f'<a href="#" data-doc="{escape(target)}">'
            return f'<a href="{escape(href)}">'
        return f'<a href="{escape(href)}" rel="noopener noreferrer nofollow" target="_blank">'


_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}, renderer_cls=_SafeRenderer)
_MD.enable(["table", "strikethrough"])


def render_markdown(body: str, path: str) -> str:
    """``body`` (a document's Markdown, front matter removed) as safe HTML.

    Args:
        body: the Markdown text.
        path: the document's root-relative path, to resolve its relative links.
    """
    env: dict[str, Any] = {"path": path}
    return _MD.render(body, env)
