"""The rehearsal's papers: the planned shape of the election, and the slips double entry catches."""

import random
from collections import Counter

import pytest

from app.rehearse.ballots import entered, expected_result, plan_round
from app.setup.demo import demo_names


@pytest.mark.parametrize("present", [20, 37, 180, 1000])
@pytest.mark.parametrize("seed", [0, 5, 11])
def test_every_run_needs_a_supplementary_and_a_tie_round(present: int, seed: int) -> None:
    rng = random.Random(seed)
    names = demo_names(present + present // 20, seed=seed)
    kind, seats, candidates = "regular", 3, names[:5]
    outcomes: list[str] = []
    elected: list[str] = []
    while True:
        plan = plan_round(
            rng,
            kind=kind,  # type: ignore[arg-type]
            seats=seats,
            candidates=candidates,
            present=present,
            write_in_names=names[16:18],
            differences=3,
        )
        assert len(plan.truth) == present
        assert sum(len(b.truth) for b in plan.batches) == present
        assert plan.differences >= 2
        assert plan.unclear == 2
        for batch in plan.batches:
            # One pass errs per batch: the other pass is the paper as marked (bar unclear marks).
            a, b = Counter(batch.pass_a), Counter(batch.pass_b)
            assert len(a - b) == len(b - a) == batch.differences <= 1
            agreed = a & b
            clear = agreed - Counter({r: n for r, n in agreed.items() if "unclear" in r.marks})
            resolution = batch.resolution()
            assert len(resolution) == batch.differences + batch.unclear
            # The scrutineers' records and the agreed clear ones are the papers as marked (C1).
            final = clear + Counter(entered(p) for p in resolution)
            assert final == Counter(entered(p) for p in batch.truth)
            assert all("unclear" not in p.marks for p in resolution)
        result = expected_result(
            kind=kind,  # type: ignore[arg-type]
            seats=seats,
            candidates=candidates,
            delegates_total=present + present // 20,
            present=present,
            issued=present,
            papers=plan.truth,
        )
        outcomes.append(result["round"]["outcome"])
        elected += result["elected"]
        if result["next_round"] is None:
            break
        kind = result["next_round"]["kind"]
        seats = result["next_round"]["seats"]
        candidates = result["next_round"]["candidates"]
    assert outcomes == ["supplementary_round", "tie_round", "seats_filled"]
    assert len(set(elected)) == 3
