"""Response bodies that are not JSON: XML parsed safely into data, HTML made readable text.

XML (`application/xml`, `text/xml`, any `+xml` type) is parsed with `defusedxml`: entity
declarations are refused (no billion laughs, no external entities, nothing fetched), the
depth and the number of elements are capped while parsing, and the tree becomes a dict
so that `response_fields` paths work on it, as xmltodict-style tools do:

```
<order id="7"><status>Shipped</status><item>a</item><item>b</item></order>
-> {"order": {"@id": "7", "status": "Shipped", "item": ["a", "b"]}}
```

Attributes are `@name`, text beside attributes or children is `#text`, repeated elements
become a list, namespaces are dropped (`{urn:x}status` is `status`), values stay text.

HTML (`text/html`, `application/xhtml+xml`) becomes plain text with the standard library's
`html.parser`: scripts, styles and other non-text elements are dropped, blocks become
lines.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from langchain_apiactions.errors import XmlRefused

__all__ = ["MAX_XML_DEPTH", "MAX_XML_ELEMENTS", "XmlRefused", "body_kind", "html_text", "parse_xml"]

MAX_XML_DEPTH = 64
MAX_XML_ELEMENTS = 100_000


def body_kind(headers: Mapping[str, str]) -> Literal["xml", "html"] | None:
    """`xml` or `html` from the response's `Content-Type`, else None."""
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    mime = ctype.split(";", 1)[0].strip().lower()
    if mime in ("text/html", "application/xhtml+xml"):
        return "html"
    if mime in ("application/xml", "text/xml") or mime.endswith("+xml"):
        return "xml"
    return None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def parse_xml(raw: bytes) -> dict[str, Any]:
    """Parse an XML body into a dict (see the module docstring).

    Raises:
        XmlRefused: malformed, too deep, too many elements, or declares entities.
    """
    depth = 0
    count = 0
    root: Element | None = None
    try:
        for event, element in iterparse(
            io.BytesIO(raw),
            events=("start", "end"),
            forbid_dtd=False,
            forbid_entities=True,
            forbid_external=True,
        ):
            if event == "start":
                depth += 1
                count += 1
                if root is None:
                    root = element
                if depth > MAX_XML_DEPTH:
                    msg = f"nested deeper than {MAX_XML_DEPTH} levels"
                    raise XmlRefused(msg)
                if count > MAX_XML_ELEMENTS:
                    msg = f"more than {MAX_XML_ELEMENTS:,} elements"
                    raise XmlRefused(msg)
            else:
                depth -= 1
    except DefusedXmlException as e:
        kind = type(e).__name__.replace("Forbidden", "").lower()
        what = {
            "entities": "it declares entities",
            "externalreference": "it refers to an external resource",
            "dtd": "it has a DTD",
        }.get(kind, "it is unsafe")
        msg = f"{what}, which are never expanded or fetched"
        raise XmlRefused(msg) from None
    except ParseError as e:
        msg = f"not well-formed XML ({e})"
        raise XmlRefused(msg) from None
    except XmlRefused:
        raise
    except (ValueError, LookupError) as e:  # expat: UTF-7, UTF-16 declared, unknown names
        msg = f"its declared encoding is not supported ({e})"
        raise XmlRefused(msg) from None
    if root is None:  # pragma: no cover - iterparse raises on an empty document
        msg = "no root element"
        raise XmlRefused(msg)
    return {_local(root.tag): _convert(root)}


def _convert(element: Element) -> Any:
    attrib = element.attrib
    if not attrib and len(element) == 0:  # a leaf, the common case: its text
        text = element.text
        return (text.strip() or None) if text else None
    children = list(element)
    texts = [element.text, *(c.tail for c in children)]
    text = " ".join(t.strip() for t in texts if t and not t.isspace())
    out: dict[str, Any] = {f"@{_local(k)}": v for k, v in attrib.items()}
    lists: set[str] = set()
    for child in children:
        key = _local(child.tag)
        value = _convert(child)
        if key not in out:
            out[key] = value
        elif key in lists:
            out[key].append(value)
        else:
            out[key] = [out[key], value]
            lists.add(key)
    if text:
        out["#text"] = text
    return out


# --------------------------------------------------------------------------- HTML

_SKIP = frozenset(
    {"script", "style", "template", "noscript", "svg", "math", "iframe", "object", "head"}
)
_NOT_EMPTY_WHEN_SELF_CLOSED = _SKIP - {"svg", "math", "head"}  # `<svg/>` really is empty
_KEEP_IN_HEAD = frozenset({"title"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "td", "th", "title", "tr", "ul",
    }
)  # fmt: skip


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []  # open elements whose text is dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip.append(tag)
        elif tag in _KEEP_IN_HEAD and self.skip == ["head"]:
            self.skip.append("")  # text kept: a marker that is not a skipped element
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _NOT_EMPTY_WHEN_SELF_CLOSED:  # browsers ignore `/>` here: `<script/>`
            self.handle_starttag(tag, attrs)  # still opens a script
            return
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and tag in self.skip:
            while self.skip and self.skip.pop() != tag:
                pass
        elif tag in _KEEP_IN_HEAD and self.skip and self.skip[-1] == "":
            self.skip.pop()
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip or self.skip[-1] == "":
            self.parts.append(data)


def html_text(raw: bytes) -> str:
    """Readable text of an HTML page: no scripts or styles, one line per block."""
    parser = _TextExtractor()
    parser.feed(raw.decode("utf-8", errors="replace"))
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
