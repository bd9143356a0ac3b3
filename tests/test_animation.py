"""Animated GIFs: one frame per chosen trace step, a frame counter, under 5 MB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adamlab.bench.records import Records
from adamlab.bench.runner import run_experiment
from adamlab.bench.spec import spec_from_dict
from adamlab.plot.animation import MAX_GIF_BYTES, frame_steps, render_frames, save_gif


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Records:
    out = tmp_path_factory.mktemp("anim")
    spec = spec_from_dict(
        {
            "optimizers": [{"name": "adam", "lr": 0.1}, {"name": "sgd", "lr": 0.01}],
            "functions": ["booth"],
            "starts": [{"name": "domain", "n": 4}],
            "steps": 100,
            "compile": False,
            "trace_rows": 3,
            "trace_points": 30,
        }
    )
    run_experiment(spec, out)
    return Records(out)


def test_frame_steps_keep_both_ends() -> None:
    assert frame_steps(range(5), 10).tolist() == [0, 1, 2, 3, 4]
    chosen = frame_steps(range(100), 7)
    assert chosen[0] == 0 and chosen[-1] == 99 and len(chosen) == 7
    with pytest.raises(ValueError, match="max_frames"):
        frame_steps(range(5), 1)


def test_gif_has_the_frames_and_stays_small(records: Records, tmp_path: Path) -> None:
    frames = render_frames(records, "booth", "domain", max_frames=8, dpi=50)
    assert len(frames) == 8
    # frames differ: the optimizers move
    assert not np.array_equal(np.asarray(frames[0]), np.asarray(frames[-1]))
    path = save_gif(frames, tmp_path / "booth.gif")
    assert 0 < path.stat().st_size < MAX_GIF_BYTES
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert getattr(gif, "n_frames", 1) == 8
        assert gif.size == frames[0].size


def test_title_counts_frames(records: Records, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.text

    titles: list[str] = []
    original = matplotlib.text.Text.set_text

    def spy(self: matplotlib.text.Text, text: object) -> None:
        if isinstance(text, str) and "frame" in text:
            titles.append(text)
        original(self, text)

    monkeypatch.setattr(matplotlib.text.Text, "set_text", spy)
    render_frames(records, "booth", "domain", max_frames=3, dpi=40)
    assert [t.split("(frame ")[1].split(")")[0] for t in titles] == ["1/3", "2/3", "3/3"]
    assert titles[0].startswith("Booth: step 0 of 100")
    assert "step 100 of 100" in titles[-1]


def test_save_gif_refuses_oversize_and_empty(records: Records, tmp_path: Path) -> None:
    frames = render_frames(records, "booth", "domain", max_frames=2, dpi=40)
    with pytest.raises(ValueError, match="exceeds"):
        save_gif(frames, tmp_path / "big.gif", max_bytes=100)
    assert not (tmp_path / "big.gif").exists()
    with pytest.raises(ValueError, match="no frames"):
        save_gif([], tmp_path / "none.gif")
