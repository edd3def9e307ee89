"""Chinese capital numerals (大写数字) for the counts on the signed result report.

Capital numerals make a figure hard to alter after signing (一 → 二 is one stroke; 壹 → 贰 is not).

The rule, for integers 0..99,999,999 (as in bookkeeping, 《会计基础工作规范》第五十二条):

- digits 零壹贰叁肆伍陆柒捌玖, place units 拾佰仟 inside a group of four digits, 万 after the
  upper group; ``壹`` is always written before 拾 (10 → 壹拾, 100,000 → 壹拾万);
- zeros at the end write nothing (180 → 壹佰捌拾, 20,000,000 → 贰仟万);
- every run of zeros *between* two non-zero digits writes exactly one 零, also when the run crosses
  the 万 boundary (105 → 壹佰零伍, 1010 → 壹仟零壹拾, 100,010 → 壹拾万零壹拾,
  107,000 → 壹拾万零柒仟: the rule allows the 零 there to be left out; we always write it, so that
  nothing can be inserted into the figure);
- 0 alone → 零.
"""

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
MAXIMUM = 99_999_999


def capital_numeral(value: int) -> str:
    """``value`` (0..99,999,999) in capital numerals; e.g. 180 → 壹佰捌拾, 1010 → 壹仟零壹拾.

    Raises ``ValueError`` outside that range (a congress never counts that many papers).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"capital_numeral expects an int, got {value!r}")
    if not 0 <= value <= MAXIMUM:
        raise ValueError(f"capital numerals are written for 0..{MAXIMUM:,}, got {value}")
    if value == 0:
        return DIGITS[0]
    digits = f"{value:08d}"  # 仟万 佰万 拾万 万 | 仟 佰 拾 个
    out: list[str] = []
    pending_zero = False
    for position, char in enumerate(digits):
        digit = int(char)
        place = 7 - position
        if digit == 0:
            pending_zero = bool(out)  # a zero after a non-zero digit (trailing zeros write nothing)
        else:
            if pending_zero:
                out.append(DIGITS[0])
                pending_zero = False
            out.append(DIGITS[digit] + PLACES[place % 4])
        if place == 4 and value >= 10_000:
            # The upper group is non-zero: close it with 万, keeping a zero run open across it.
            out.append("万")
    return "".join(out)
