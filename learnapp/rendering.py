"""Trainer Markdown to safe HTML: rendered with ``markdown``, then sanitised with ``nh3``.

Python-Markdown passes raw HTML through, so sanitising after rendering is what makes trainer
content safe to show: only the tags and attributes below survive, and links may only use
http, https and mailto (no ``javascript:`` or ``data:``).
"""

from __future__ import annotations

from functools import lru_cache

import markdown as _markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead",
    "tbody", "tr", "th", "td", "del", "sup", "sub", "abbr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Render Markdown to HTML and sanitise it to the allow-list above (cached: prompts repeat all day)."""
    html = _markdown.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
