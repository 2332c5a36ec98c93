"""Trainer Markdown to safe HTML: rendered with ``markdown``, then sanitised with ``nh3``.

Python-Markdown passes raw HTML through, so sanitising after rendering is what makes trainer
content safe to show: only the tags and attributes below survive, and links may only use
http, https and mailto (no ``javascript:`` or ``data:``).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from html.parser import HTMLParser

import markdown as _markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead",
    "tbody", "tr", "th", "td", "del", "sup", "sub", "abbr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _unsanitised_html(text: str, extensions: tuple[str, ...] = ()) -> str:
    # align="..." rather than the default style="text-align: ...", which the sanitiser would strip
    return _markdown.markdown(text or "", extensions=["tables", "sane_lists", *extensions], output_format="html",
                              extension_configs={"tables": {"use_align_attribute": True}})


def render_markdown(text: str, *, cache: bool = True) -> str:
    """Render Markdown to HTML and sanitise it to the allow-list above.

    Cached, as stored prompts and lessons repeat all day; ``cache=False`` for text being typed (the editor's
    preview): each keystroke's text is new, so caching those kept up to 4,096 of them in every worker (gigabytes when
    a lesson could hold 256 KB; 8 KB now).
    """
    return _cached_html(text) if cache else _sanitised_html(text)


@lru_cache(maxsize=4096)
def _cached_html(text: str) -> str:
    return _sanitised_html(text)


def render_guide(text: str) -> str:
    """A page of the app's own documentation (the authoring guide) as safe HTML: rendered and sanitised as content
    is, with fenced code blocks (```), which the guide's examples use and content has no need of."""
    return _guide_html(text)


@lru_cache(maxsize=4)
def _guide_html(text: str) -> str:
    return _clean(_unsanitised_html(text, ("fenced_code",)))


def _sanitised_html(text: str) -> str:
    return _clean(_recent_unsanitised_html(text))


@lru_cache(maxsize=4)
def _recent_unsanitised_html(text: str) -> str:
    """The editor's live check renders a typed text for its preview and again for removed_by_sanitiser: Markdown
    runs once for both (it is nearly all of the check's time on a long text). A few texts, not thousands."""
    return _unsanitised_html(text)


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


class _Shape(HTMLParser):
    """What an HTML fragment is made of, whatever its serialisation: its elements, their attributes, its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: Counter[str] = Counter()
        self.attributes: Counter[tuple[str, str]] = Counter()
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements[tag] += 1
        # rel is what the sanitiser sets on every link itself, not something it takes away
        self.attributes.update((tag, name) for name, _ in attrs if not (tag == "a" and name == "rel"))

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.elements["!--"] += 1


def removed_by_sanitiser(text: str) -> list[str]:
    """What sanitising took out of this Markdown, one phrase per kind of thing (empty: nothing was removed).

    The editor shows it beside the preview: otherwise a ``<script>``, an ``<img>`` or the ``javascript:``
    address of a link vanish without a word, leaving, say, a link that goes nowhere. Elements, attributes
    and text are compared, not the HTML strings, which the sanitiser also re-serialises.
    """
    before, after = _Shape(_recent_unsanitised_html(text)), _Shape(render_markdown(text, cache=False))
    elements = before.elements - after.elements
    removed = ["comments" if tag == "!--" else f"<{tag}>" for tag in sorted(elements)]
    removed += [f"the {name} of <{tag}>" for tag, name in sorted(before.attributes - after.attributes) if tag not in elements]
    if not removed and _words(before.text) != _words(after.text):
        removed.append("some text")
    return removed


def _words(text: list[str]) -> str:
    # control characters are left out: the two parsers decode a reference such as &#1; differently
    return " ".join("".join(ch for ch in "".join(text) if ch.isprintable() or ch.isspace()).split())
