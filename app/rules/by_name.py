"""A paper given by candidate name — as a tablet enters it, as a ROUND.json lists it — read
against the round's paper: the one reading both use (``app.counting.records.make_record``,
``app.rules.roundfile``)."""

from collections.abc import Mapping, Sequence

from app.rules.model import RoundDefinition, normalize_name


class PaperNameError(ValueError):
    """A paper that does not fit the round's paper: a stable ``code``, the key at fault
    (``where``: ``marks.王宁``, ``write_ins``) and the reason in Chinese and English."""

    def __init__(self, code: str, where: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.where = code, where
        self.message_zh, self.message_en = message_zh, message_en


def marks_in_ballot_order(definition: RoundDefinition, marks: Mapping[str, str]) -> list[str]:
    """One mark per candidate of the paper, in ballot order. A candidate missing from ``marks``
    is blank (P5); names are matched after P7 normalization, so ``王 宁`` is ``王宁`` — and
    naming the same candidate twice that way is refused, not a silent overwrite."""
    index = {normalize_name(name): i for i, name in enumerate(definition.candidates)}
    ordered = ["blank"] * len(definition.candidates)
    seen: set[int] = set()
    for name, mark in marks.items():
        position = index.get(normalize_name(name))
        if position is None:
            raise PaperNameError(
                "unknown_candidate",
                f"marks.{name}",
                f"{name} 不是本轮选票上的候选人",
                f"{name} is not a candidate on this round's paper",
            )
        if position in seen:
            raise PaperNameError(
                "duplicate_candidate_mark",
                f"marks.{name}",
                f"{name} 的符号重复填写",
                f"{name} is marked twice",
            )
        seen.add(position)
        ordered[position] = mark
    return ordered


def check_write_in_boxes(definition: RoundDefinition, write_ins: Sequence[str | None]) -> None:
    """A tie round's paper has no write-in boxes (M7): a write-in on it, even an illegible one,
    cannot be."""
    if write_ins and not definition.has_write_ins:
        raise PaperNameError(
            "tie_round_has_no_write_ins",
            "write_ins",
            "票数相等重新投票的选票没有“另选他人”栏（M7）",
            "a tie-round paper has no write-in boxes (M7)",
        )
