"""Names as they enter the system: one normalisation and one refusal list, whatever the door.

Every person's name — a roster row (CSV or XLSX), a candidate's or an official's name in an API
body, a write-in typed at paper entry, a presidium's follow-up list, a check-in search — goes
through ``refused_character`` (and, when it is stored as a person's name, ``person_name``). So
``王芳`` and ``王\\u200b芳`` cannot become two people: the second is refused with the character.

Refused (checked on the NFKC form, so a letter typed as base + combining accent that composes is
accepted): control characters (Cc: NUL, tab, CR, LF, ...), invisible format characters (Cf:
zero-width space/joiners, bidi overrides and isolates, BOM, soft hyphen), line and paragraph
separators (Zl, Zp), combining marks left over after NFKC (Mn, Mc, Me, variation selectors
included), private-use (Co), surrogate (Cs) and unassigned (Cn) code points.

Pure (standard library only), like the rest of ``app.rules``.
"""

import unicodedata

# Unicode general category -> (Chinese, English) description of a refused character.
REFUSED_CATEGORIES: dict[str, tuple[str, str]] = {
    "Cc": ("控制字符", "control character"),
    "Cf": ("不可见的格式字符（零宽字符或文字方向控制符）", "invisible format character"),
    "Zl": ("换行分隔符", "line separator"),
    "Zp": ("分段分隔符", "paragraph separator"),
    "Mn": ("组合附加符号", "combining mark"),
    "Mc": ("组合附加符号", "combining mark"),
    "Me": ("组合附加符号", "combining mark"),
    "Co": ("私用区字符", "private-use character"),
    "Cs": ("不成对的代理字符", "lone surrogate"),
    "Cn": ("未分配的字符", "unassigned code point"),
}


class NameRefused(ValueError):
    """A name holds a character of ``REFUSED_CATEGORIES`` (the message says which, in both
    languages, as pydantic validators and roster rows report it)."""

    def __init__(self, character: str) -> None:
        zh, en = REFUSED_CATEGORIES[unicodedata.category(character)]
        code = f"U+{ord(character):04X}"
        self.character = character
        self.message_zh = f"含有{zh} {code}，请删除后重试"
        self.message_en = f"contains the {en} {code}; remove it"
        super().__init__(f"{self.message_zh} / {self.message_en}")


def refused_character(text: str) -> str | None:
    """The first character of ``text`` (in its NFKC form) that no name may hold, or None."""
    for character in unicodedata.normalize("NFKC", text):
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            return character
    return None


def check_name_text(text: str) -> str:
    """``text`` unchanged, or ``NameRefused`` if it holds a refused character."""
    character = refused_character(text)
    if character is not None:
        raise NameRefused(character)
    return text


def person_name(text: str) -> str:
    """The one normalisation of a person's name: refused characters raise ``NameRefused``; then
    NFKC, trimmed, runs of spaces made one, and spaces inside an all-Chinese name dropped as
    padding (``王  芳`` -> ``王芳``, ``Ａｌｉ`` -> ``Ali``)."""
    text = unicodedata.normalize("NFKC", check_name_text(text)).strip()
    compact = "".join(text.split())
    if compact and all(unicodedata.name(ch, "").startswith("CJK") or ch == "·" for ch in compact):
        return compact
    return " ".join(text.split())


__all__ = ["REFUSED_CATEGORIES", "NameRefused", "check_name_text", "person_name"]
