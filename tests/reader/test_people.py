"""The reader on marks people drew (the $1 gesture logs, ``scripts/reader/human_marks.py``): the
subjects no network was trained on, scanned and photographed."""

from types import ModuleType
from typing import Any

import numpy as np
import pytest

from app.reader.read import read_paper
from tests.reader.helpers import SCRIPTS, draw_marks, paper_reader, photo, scan, synth

HELD_OUT = set(range(7, 12))  # the networks learned from the people's marks of subjects 1–6


def human_marks() -> ModuleType:
    synth()  # puts scripts/reader on the path
    import human_marks as module

    return module


@pytest.fixture(scope="module")
def printed() -> Any:
    module = synth()
    return module.print_paper(module.PaperCase("seed5", "seed", "A4", 2))


def test_the_peoples_marks_are_whole_and_their_crosses_two_strokes() -> None:
    module = human_marks()
    assert module.DATA.parent == SCRIPTS / "data"
    with np.load(module.DATA) as data:
        for gesture in module.GESTURES:
            strokes, subjects = data[f"{gesture}.strokes"], data[f"{gesture}.subject"]
            # 11 people (the pilot is subject 1), 3 speeds, 10 drawings each; one x drawn in
            # another order is left out.
            assert len(strokes) >= 329, gesture
            assert set(subjects.tolist()) == set(range(1, 12)), gesture
            assert strokes.shape[1:] == ((2 if gesture == "x" else 1), module.POINTS, 2)
            # Inside the unit box with its margin, the longer side filling it.
            unit = strokes.astype(float) / 255
            size = np.ptp(unit.reshape(len(unit), -1, 2), axis=1).max(axis=1)
            assert np.allclose(size, 1 - 2 * module.MARGIN, atol=0.01), gesture
        crosses = data["x.strokes"].astype(float)
    # Each stroke of a × runs from a top corner to the opposite bottom one.
    first = crosses[:, 0, -1] - crosses[:, 0, 0]
    second = crosses[:, 1, -1] - crosses[:, 1, 0]
    assert (first > 0).all()
    assert (second[:, 0] < 0).all()
    assert (second[:, 1] > 0).all()


def test_a_one_stroke_x_is_cut_into_the_two_strokes_of_a_cross() -> None:
    module = human_marks()
    # Down to the lower right, up the right side, down to the lower left.
    path = np.array([[0, 0], [5, 5], [10, 10], [10, 5], [10, 0], [5, 5], [0, 10]], dtype=float)
    path = np.vstack([module._resample(part, 8) for part in (path[:3], path[2:5], path[4:])])
    strokes = module._split_cross(path)
    assert strokes is not None
    assert np.allclose(strokes[0][[0, -1]], [[0, 0], [10, 10]])
    assert np.allclose(strokes[1][[0, -1]], [[10, 0], [0, 10]])
    # Drawn another way round (the right stroke first): not taken for a ×.
    assert module._split_cross(path[::-1].copy()) is None


def test_marks_people_drew_are_never_read_wrong_and_sure(printed: Any) -> None:
    people = human_marks().HumanMarks.load(HELD_OUT)
    reader = paper_reader(printed)
    boxes = list(printed.geometry.mark_boxes)
    papers = [
        ["yes", "no", "abstain", "blank", "circle"],
        ["abstain", "yes", "no", "circle", "yes"],
        ["no", "circle", "yes", "abstain", "blank"],
        ["scribble", "yes", "scribble", "no", "scribble"],
    ]
    right = sure_scribbles = 0
    for index, drawn in enumerate(papers):
        image = draw_marks(printed.raster, boxes, drawn, seed=20 + index, people=people)
        truth = ["yes" if kind == "circle" else kind for kind in drawn]
        for seed, data in enumerate((scan(image), photo(image, seed=index))):
            reading = read_paper(data, reader)
            for name, kind, expected in zip(printed.candidates, drawn, truth, strict=True):
                found = reading.marks[name]
                if kind == "scribble":
                    sure_scribbles += found.sure
                    continue
                assert found.mark == expected or not found.sure, (index, seed, name, found)
                right += found.mark == expected and found.sure
    assert sure_scribbles == 0
    assert right >= 30  # of the 34 marks (all 34 in the fifteenth session), the others unsure


class _Gestures:
    """People's gestures drawn by name (``draw_marks``' kinds are the gestures' names)."""

    def __init__(self, people: Any, names: tuple[str, ...]) -> None:
        self.people, self.names = people, names

    def mark(self, rng: np.random.Generator, kind: str) -> list[np.ndarray] | None:
        return self.people.gesture(rng, kind) if kind in self.names else None


def test_no_scribble_people_drew_is_read_as_a_sure_mark() -> None:
    module = human_marks()
    paper = synth().print_paper(synth().PaperCase("twelve", "seed", "A4", 1))
    reader = paper_reader(paper)
    # Every scribble the people drew, the ones no generator of ours draws too; a ✓ to show the
    # paper is read.
    scribbles = tuple(gesture for gesture in module.GESTURES if gesture not in module.MARKS)
    drawn = [*scribbles, "check"]
    assert len(drawn) == len(paper.candidates)
    gestures = _Gestures(module.HumanMarks.load(HELD_OUT), (*scribbles, "check"))
    ticks = 0
    for seed in range(2):
        image = draw_marks(
            paper.raster, list(paper.geometry.mark_boxes), drawn, seed=30 + seed, people=gestures
        )
        for data in (scan(image), photo(image, seed=seed)):
            reading = read_paper(data, reader)
            marks = [reading.marks[name] for name in paper.candidates]
            assert not any(mark.sure for mark in marks[:-1]), list(zip(drawn, marks, strict=True))
            ticks += marks[-1].mark == "yes"
    assert ticks == 4


def test_a_training_sets_marks_are_drawn_again_otherwise_and_stay_in_the_box() -> None:
    module = human_marks()
    plain = module.HumanMarks.load({1, 2})
    varied = module.HumanMarks.load({1, 2}, vary=True)
    for kind in ("yes", "no", "abstain", "circle"):
        for seed in range(20):
            drawn = plain.mark(np.random.default_rng(seed), kind)
            again = varied.mark(np.random.default_rng(seed), kind)
            # The same person's drawing (the same draw of the generator), moved.
            assert len(again) == len(drawn), kind
            assert [s.shape for s in again] == [s.shape for s in drawn], kind
            moved = [float(np.abs(a - d).max()) for a, d in zip(again, drawn, strict=True)]
            assert max(moved) > 0.01, kind
            every = np.vstack(again)
            assert every.min() >= module.MARGIN - 1e-9
            assert every.max() <= 1 - module.MARGIN + 1e-9
            assert np.ptp(every, axis=0).max() == pytest.approx(1 - 2 * module.MARGIN)
    # Without vary a set's marks are the people's own: the sets made before stay the same.
    ours = plain.mark(np.random.default_rng(3), "abstain")
    assert np.array_equal(ours[0], plain.gesture(np.random.default_rng(3), "triangle")[0])


def test_a_closed_marks_last_stroke_is_drawn_on_or_cut_short() -> None:
    module = human_marks()
    # A △ drawn from its apex round to the apex again.
    corners = np.array([[0.5, 0.1], [0.1, 0.9], [0.9, 0.9], [0.5, 0.1]])
    triangle = module._resample(corners)
    gaps = []
    for seed in range(200):
        stroke = module._reach(np.random.default_rng(seed), triangle, "abstain")
        assert stroke.shape == triangle.shape
        # Signed: past the apex (overshoot) up the right side's line, or short of it.
        past = float(np.dot(stroke[-1] - triangle[-1], triangle[-1] - triangle[-2]))
        gaps.append(np.sign(past) * float(np.hypot(*(stroke[-1] - triangle[-1]))))
    length = 0.8 + 2 * float(np.hypot(0.4, 0.8))
    assert min(gaps) == pytest.approx(-0.03 * length, rel=0.05)
    assert max(gaps) == pytest.approx(0.08 * length, rel=0.05)
    # A ○ only ever overlaps: cut short it would be a C.
    for seed in range(50):
        circle = module._reach(np.random.default_rng(seed), triangle, "circle")
        assert float(np.dot(circle[-1] - triangle[-1], triangle[-1] - triangle[-2])) >= 0
