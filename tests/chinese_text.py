"""What counts as a Latin word in Chinese text a person is shown: anything but a rule id, a token
holding a digit, one of ``ALLOWED``, or the English gloss beside a page text. Shared by
tests/test_chinese.py (the messages, and the pages as served) and the browser tests (the pages as
rendered)."""

import re
from html.parser import HTMLParser
from typing import ClassVar

# Proper nouns and units that a Chinese text writes in Latin letters, each because the people in
# the hall see that very word on the thing it names. Keep this list short: a new entry needs a
# reason here, and a code identifier or an English word is never one.
ALLOWED = frozenset(
    {
        "PDF",  # the printed files are PDF files (打印 PDF)
        "QR",  # 二维码 is also called QR 码 on the tablets' camera screens
        "CSV",  # roster files are uploaded as CSV or XLSX (the file type the user picks)
        "XLSX",
        "JPEG",  # a photo of a paper is sent as JPEG or PNG (the file type the camera makes)
        "PNG",
        "JSON",  # API clients send JSON: the body "不是有效的 JSON"
        "UTF",  # UTF-8 / GBK: the text encodings of a roster file, as spreadsheet programs say
        "GBK",
        "SHA",  # SHA-256, the hash printed on signed reports
        "NIST",  # the NIST election-results export format
        "HTTP",  # a status code is an HTTP status code
        "HTTPS",  # the camera needs the page opened over HTTPS (the browser says so too)
        "Excel",  # the spreadsheet program the secretariat saves the roster with (另存为 CSV UTF-8)
        "Unicode",  # the character standard whose stroke counts stand in for a missing character
        "jipiao",  # the product's name, in page titles
    }
)

# A rule id (P1, M10, Q1, O2, I2) as RULES.md numbers them: cited in Chinese documents too.
RULE_ID = re.compile(r"[A-Z]{1,2}\d{1,2}")
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# str.format placeholders in a template ({min_length}), Unicode code points (U+0000).
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|U\+")


def latin_words(text: str) -> list[str]:
    """The Latin words of ``text`` that are neither a rule id, a number-like token nor allowed."""
    text = PLACEHOLDER.sub(" ", text)
    return [
        word
        for word in LATIN.findall(text)
        if not RULE_ID.fullmatch(word)
        and not any(ch.isdigit() for ch in word)
        and word not in ALLOWED
    ]


# Attributes a person sees (or hears, from a screen reader).
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "value", "label")


def without_gloss(text: str) -> str:
    """The Chinese part of ``中文 / English``: the English gloss beside Chinese is the product's
    convention (PRODUCT.md: Chinese first, English small beside)."""
    head, separator, _gloss = text.partition(" / ")
    if separator and CJK.search(head):
        return head
    return text


def page_words(text: str) -> list[str]:
    # A single capital letter labels the two entry passes (第一遍（A）/ 第二遍（B）).
    return [w for w in latin_words(without_gloss(text)) if not re.fullmatch(r"[A-Z]", w)]


class _PageText(HTMLParser):
    """Visible text nodes and shown attributes, outside <script>/<style> and class="en"."""

    HIDDEN: ClassVar[frozenset[str]] = frozenset({"script", "style"})
    VOID: ClassVar[frozenset[str]] = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, English gloss or hidden)
        self.found: list[tuple[str, str]] = []  # (what, text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        english = "en" in (values.get("class") or "").split() or values.get("lang") == "en"
        skip = tag in self.HIDDEN or english or (bool(self.stack) and self.stack[-1][1])
        if not skip:
            for name in SHOWN_ATTRIBUTES:
                value = values.get(name)
                if value and not (tag == "input" and name == "value"):
                    self.found.append((f"<{tag} {name}>", value))
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not (self.stack and self.stack[-1][1]):
            self.found.append((f"<{self.stack[-1][0] if self.stack else ''}>", text))


def page_offences(html: str) -> list[str]:
    """Each visible text or shown attribute of ``html`` that holds a Latin word, one line each."""
    parser = _PageText()
    parser.feed(html)
    offences = []
    for what, text in parser.found:
        if what.endswith(" placeholder>") and CJK.search(text):
            continue  # an example of what to type (a login code, pinyin initials), beside Chinese
        words = page_words(text)
        if words:
            offences.append(f"{what} {text!r}: Latin words {words}")
    return offences
