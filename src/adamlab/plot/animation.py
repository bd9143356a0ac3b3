"""Animated GIFs: every optimizer moving together from the same starts over the contour map.

The frames are the engine's recorded trace steps (log-spaced in t, so the fast early moves
and the slow late crawl both get frames), thinned to at most ``max_frames``. Each optimizer
draws the paths of the same traced starts in its colour, a trail behind a moving head; the
title counts steps and frames. Rendering uses the Agg canvas and Pillow only (no ffmpeg);
frames share one adaptive palette so the GIF stays small (a few hundred kB at the defaults).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from adamlab.bench.engine import UnitResult
from adamlab.bench.records import Records, atomic_write_bytes
from adamlab.functions import get
from adamlab.plot.curves import optimizer_colors
from adamlab.plot.surfaces import draw_contour, evaluate_grid
from adamlab.plot.trajectories import plot_box, traced_rows

__all__ = ["MAX_GIF_BYTES", "frame_steps", "render_frames", "save_gif"]

#: GIFs must stay below this size (the report embeds them).
MAX_GIF_BYTES = 5 * 1024 * 1024


def frame_steps(trace_steps: Sequence[int], max_frames: int) -> np.ndarray:
    """Indices into ``trace_steps`` of the frames: all of them, or ``max_frames`` evenly
    chosen among them (first and last kept).

    >>> frame_steps(range(10), 4).tolist()
    [0, 3, 6, 9]
    """
    n = len(trace_steps)
    if max_frames < 2:
        raise ValueError(f"invalid max_frames: {max_frames} (expected >= 2)")
    if n <= max_frames:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_frames)).astype(np.int64))


def _rows_by_index(unit: UnitResult, start_set: str) -> dict[int, int]:
    return {int(unit.start_index[r]): r for r in traced_rows(unit, start_set)}


def render_frames(
    records: Records,
    function: str,
    start_set: str,
    *,
    count: int = 6,
    max_frames: int = 60,
    size: tuple[float, float] = (6.4, 5.2),
    dpi: int = 80,
    optimizers: Sequence[str] | None = None,
) -> list[Image.Image]:
    """The frames of the animation of ``function``, as RGB Pillow images.

    Args:
        records: records with traces (``trace_rows`` > 0 in the spec).
        function: the function's registry name (2-D; higher dimensions show coordinates 1, 2).
        start_set: which start set's traced starts to show.
        count: at most this many starts (the same ones for every optimizer).
        max_frames: at most this many frames.
        size, dpi: figure size in inches and resolution.
        optimizers: optimizer labels to show (default: all).

    Returns:
        One image per frame.
    """
    names = list(optimizers) if optimizers is not None else records.optimizers
    units = [records.unit(name, function) for name in names]
    first = units[0]
    indices = sorted(_rows_by_index(first, start_set))[:count]
    if not indices:
        raise ValueError(f"no traced starts of start set {start_set!r} for {function!r}")
    f = get(function, first.dim)
    colors = optimizer_colors(records.optimizers)
    # paths[name]: (Q, k, 2) iterates of the chosen starts
    paths: dict[str, np.ndarray] = {}
    for unit in units:
        by_index = _rows_by_index(unit, start_set)
        traced = [int(r) for r in np.asarray(unit.trace_rows)]
        columns = [traced.index(by_index[i]) for i in indices if i in by_index]
        paths[unit.optimizer] = np.asarray(unit.trace)[:, columns, :2]
    starts = np.asarray(first.start)[[_rows_by_index(first, start_set)[i] for i in indices], :2]
    box = plot_box(f, starts)
    steps = np.asarray(first.trace_steps)
    frames = frame_steps(steps.tolist(), max_frames)

    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    ax = fig.subplots()
    draw_contour(ax, f, grid=evaluate_grid(f, resolution=140, box=box), legend=False)
    start_marks = ax.scatter(
        starts[:, 0], starts[:, 1], s=30, c="white", edgecolors="black", zorder=5
    )
    trails: dict[str, list[Line2D]] = {}
    heads: dict[str, Line2D] = {}
    for name, path in paths.items():
        color = colors[name]
        trails[name] = [
            ax.plot([], [], color=color, lw=1.5, alpha=0.9)[0] for _ in range(path.shape[1])
        ]
        (heads[name],) = ax.plot(
            [], [], "o", color=color, mec="white", mew=0.8, ms=6, zorder=7, label=name
        )
    ax.set_xlim(*box[0])
    ax.set_ylim(*box[1])
    legend = ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
    title = ax.set_title("", fontsize=10)

    def show(number: int, q: int) -> None:
        for name, path in paths.items():
            for k, line in enumerate(trails[name]):
                line.set_data(path[: q + 1, k, 0], path[: q + 1, k, 1])
            heads[name].set_data(path[q, :, 0], path[q, :, 1])
        title.set_text(
            f"{f.display_name}: step {int(steps[q]):,} of {int(steps[-1]):,}  "
            f"(frame {number}/{len(frames)})\n{len(indices)} starts of '{start_set}', "
            "every optimizer from the same points"
        )

    # Blitting: the contour map is drawn once; each frame restores it and draws only what
    # moves (and what lies above it), in z-order. The first frame's title is in place for
    # the one layout pass, which is then frozen.
    moving: list[Artist] = [line for lines in trails.values() for line in lines]
    moving += [start_marks, legend, *heads.values(), title]
    moving.sort(key=lambda artist: artist.get_zorder())
    for artist in moving:
        artist.set_animated(True)
    show(1, int(frames[0]))
    canvas.draw()
    fig.set_layout_engine("none")
    background = canvas.copy_from_bbox(fig.bbox)

    images = []
    for number, q in enumerate(frames, start=1):
        if number > 1:
            show(number, int(q))
        canvas.restore_region(background)
        for artist in moving:
            ax.draw_artist(artist)
        images.append(
            Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
        )
    return images


def save_gif(
    frames: Sequence[Image.Image],
    path: str | Path,
    *,
    frame_ms: int = 120,
    last_frame_ms: int = 1500,
    max_bytes: int = MAX_GIF_BYTES,
) -> Path:
    """Write ``frames`` as a looping GIF (one shared palette) and return its path.

    Raises:
        ValueError: if there are no frames or the GIF would exceed ``max_bytes``.
    """
    if not frames:
        raise ValueError("no frames to save")
    palette = frames[-1].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    quantized = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    durations = [frame_ms] * (len(frames) - 1) + [last_frame_ms]
    buffer = io.BytesIO()
    quantized[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=quantized[1:],
        duration=durations,
        loop=0,
        optimize=False,
        disposal=1,
    )
    data = buffer.getvalue()
    if len(data) > max_bytes:
        raise ValueError(f"GIF of {len(data):,} bytes exceeds {max_bytes:,}: use fewer frames")
    out = Path(path)
    atomic_write_bytes(out, data)
    return out
