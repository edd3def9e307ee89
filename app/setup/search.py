"""Finding a roster name by what a person types: the start of the name, or its pinyin initials
(``wxm`` → 王小明). One matcher for the check-in desk's search (``GET …/delegates?q=``) and the
tablet's write-in suggestions (``GET …/name-suggestions``), so both find the same people.

Names are compared P7-normalised (NFKC, no whitespace, ``app.rules.model.normalize_name``);
initials count every reading of a heteronym (单 → d, s, c), since the desk cannot know which one
the person's name uses.
"""

from functools import lru_cache

from pypinyin import Style, pinyin

from app.rules.model import normalize_name


@lru_cache(maxsize=8192)
def _initials(name: str) -> tuple[frozenset[str], ...]:
    """Each character's possible pinyin initials (heteronyms included: 单 → d, s, c)."""
    readings = pinyin(name, style=Style.FIRST_LETTER, heteronym=True, errors="default")
    return tuple(frozenset(r.lower()[:1] for r in options if r) for options in readings)


def initials_query(query: str) -> str | None:
    """``query`` as pinyin initials to look for (lower case), or None when it is not letters."""
    lowered = normalize_name(query).lower()
    return lowered if lowered.isascii() and lowered.isalpha() else None


def matches_initials(name: str, initials: str) -> bool:
    """Whether the (normalised) name's pinyin initials start with ``initials`` (lower case)."""
    options = _initials(name)
    if len(initials) > len(options):
        return False
    return all(ch in options[i] for i, ch in enumerate(initials))


def name_matches(name: str, query: str) -> bool:
    """The write-in rule: ``name`` starts with ``query`` or its initials do (both normalised)."""
    needle = normalize_name(query)
    if not needle:
        return False
    normalized = normalize_name(name)
    initials = initials_query(needle)
    return normalized.startswith(needle) or (
        initials is not None and matches_initials(normalized, initials)
    )
