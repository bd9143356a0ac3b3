"""The outputs of ``adamlab run``: figures, summary table and a Markdown report, from records.

Everything is read from :class:`~adamlab.bench.records.Records`; nothing is re-run. The report's
sentences are generated from the numbers of the summary table, so they follow the records: no
conclusion is written in advance. Output is deterministic (fixed order and formatting).

Files written into ``out_dir``::

    figures/curves_<start set>.png                  median f - f* curves, one panel per function
    figures/trajectories_<function>_<start set>.png paths of a few starts, one panel per optimizer
    summary.csv, summary.md                         the summary table
    report.md                                       protocol, figures, table, findings
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from adamlab.bench.drivers import validated_group
from adamlab.bench.records import Records, atomic_write_text
from adamlab.bench.summary import (
    SUMMARY_TARGETS,
    format_markdown_table,
    format_rate,
    summary_rows,
    target_key,
    write_summary_csv,
)
from adamlab.functions import get
from adamlab.plot.curves import describe_start_set, n_starts, seed_figure
from adamlab.plot.trajectories import surface_paths_figure, trajectories_figure

__all__ = ["build_report", "report_targets", "write_run_outputs"]

#: Figure resolution (dots per inch) of the PNG files.
DPI = 110
Row = dict[str, Any]


def report_targets(targets: Sequence[float]) -> tuple[float, float]:
    """The loose and tight targets the report uses: 1e-4 and 1e-8 when they were recorded,
    else the middle and the smallest recorded target."""
    found = [t for t in SUMMARY_TARGETS if any(math.isclose(t, r) for r in targets)]
    if len(found) == 2:
        return found[0], found[1]
    ordered = sorted(targets, reverse=True)
    return ordered[len(ordered) // 2], ordered[-1]


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # no timestamp or software tag in the PNG, so equal records give equal files
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def write_run_outputs(records: Records, out_dir: str | Path) -> list[Path]:
    """Write the figures, the summary (CSV and Markdown) and ``report.md`` into ``out_dir``.

    Args:
        records: the run's records.
        out_dir: the folder to write into (created if needed).

    Returns:
        The paths written, in writing order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for start_set in records.start_sets:
        path = out / "figures" / f"curves_{start_set}.png"
        written.append(_save(seed_figure(records, start_set), path))
    for function in records.functions:
        for start_set in records.start_sets:
            path = out / "figures" / f"trajectories_{function}_{start_set}.png"
            written.append(_save(trajectories_figure(records, function, start_set), path))
            path = out / "figures" / f"surface_{function}_{start_set}.png"
            written.append(_save(surface_paths_figure(records, function, start_set), path))
    targets = report_targets(records.spec.targets)
    rows = summary_rows(records, targets)
    csv_path = out / "summary.csv"
    write_summary_csv(csv_path, rows)
    written.append(csv_path)
    table = format_markdown_table(rows)
    atomic_write_text(out / "summary.md", table)
    written.append(out / "summary.md")
    atomic_write_text(out / "report.md", build_report(records, rows, targets))
    written.append(out / "report.md")
    return written


# -- the report -----------------------------------------------------------------------------


def _display(function: str, records: Records) -> str:
    unit = next(u for u in records.units if u.function == function)
    return get(function, unit.dim).display_name


def _hyperparameters(records: Records) -> list[str]:
    lines = []
    for opt in records.spec.optimizers:
        explicit = {k for k, _ in opt.kwargs}
        try:
            _, group = validated_group(opt)
        except ValueError:
            group = dict(opt.kwargs_dict)
        parts = []
        for key in sorted(group):
            value = group[key]
            if value is None or key in ("foreach", "fused", "capturable", "differentiable"):
                continue
            mark = "set" if key in explicit else "default"
            parts.append(f"{key}={value} ({mark})")
        if opt.lrs:
            parts.append(f"lrs={list(opt.lrs)} (swept)")
        if opt.schedule != "constant":
            parts.append(f"schedule={opt.schedule}")
        lines.append(f"- **{opt.label}** (`{opt.name}`): " + ", ".join(parts))
    return lines


def _steps(value: float) -> str:
    return "never" if math.isnan(value) else f"{value:g} steps"


def _rows_for(rows: Sequence[Row], function: str, start_set: str) -> list[Row]:
    return [r for r in rows if r["function"] == function and r["start_set"] == start_set]


def _name(row: Row, rows: Sequence[Row]) -> str:
    several = len({r["lr"] for r in rows if r["optimizer"] == row["optimizer"]}) > 1
    return f"{row['optimizer']} (lr {row['lr']:g})" if several else row["optimizer"]


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _function_sentences(group: Sequence[Row], loose: str, tight: str) -> list[str]:
    sentences = []
    best_rate = max(r[f"success@{tight}"] for r in group)
    if best_rate == 0:
        sentences.append(f"No optimizer reached f − f* ≤ {tight} from any start.")
    else:
        best = [r for r in group if r[f"success@{tight}"] == best_rate]
        names = _join([_name(r, group) for r in best])
        verb = "reached" if len(best) == 1 else "tie at"
        sentences.append(
            f"{names} {verb} f − f* ≤ {tight} most often: {format_rate(best[0], tight)} "
            f"of {best[0]['n']} starts (95 % Wilson interval)."
        )
    diverged = [r for r in group if r["diverged"]]
    if diverged:
        parts = [f"{_name(r, group)} {r['diverged']}/{r['n']}" for r in diverged]
        sentences.append(f"Diverged (non-finite iterate or value): {_join(parts)}.")
    else:
        sentences.append("No run diverged.")
    gaps = [f"{_name(r, group)} {r['median_final_gap']:.2e}" for r in group]
    sentences.append(f"Median final f − f*: {', '.join(gaps)}.")
    return sentences


def _claim_check(group: Sequence[Row], loose: str) -> tuple[str, bool | None]:
    """One sentence on 'Adam converges faster and more reliably' for one function and start
    set, and whether the claim holds there (None: Adam not in the records)."""
    adam = [r for r in group if r["optimizer"] == "adam"]
    if not adam:
        return "Adam is not in these records.", None
    if all(r[f"success@{loose}"] == 0 for r in group):
        n = group[0]["n"]
        return (
            f"no optimizer reached f − f* ≤ {loose} from any of the {n} starts (Adam: "
            f"{format_rate(adam[0], loose)}), so no optimizer was faster or more reliable: "
            "**the claim does not hold here.**",
            False,
        )
    a = max(adam, key=lambda r: r[f"success@{loose}"])
    others = [r for r in group if r["optimizer"] != "adam"]
    best_other_rate = max((r[f"success@{loose}"] for r in others), default=-1.0)
    rate = a[f"success@{loose}"]
    most_reliable = rate > best_other_rate
    tied = rate == best_other_rate
    rival = [r for r in others if r[f"success@{loose}"] == best_other_rate]
    rival_text = (
        ", ".join(f"{_name(r, group)} {format_rate(r, loose)}" for r in rival) if rival else "-"
    )
    reliability = (
        "the highest"
        if most_reliable
        else ("a shared highest" if tied and rate > 0 else "not the highest")
    )
    speed_rows = [r for r in group if not math.isnan(r[f"median_steps@{loose}"])]
    fastest = min((r[f"median_steps@{loose}"] for r in speed_rows), default=math.nan)
    adam_steps = a[f"median_steps@{loose}"]
    if math.isnan(adam_steps):
        speed = "Adam never reached it, so it was not the fastest"
        fastest_flag = False
    else:
        fastest_flag = adam_steps <= fastest
        quickest = [_name(r, group) for r in speed_rows if r[f"median_steps@{loose}"] == fastest]
        speed = f"Adam's median time to it among its successes was {_steps(adam_steps)}, " + (
            "the fastest" if fastest_flag else f"slower than {_join(quickest)} ({_steps(fastest)})"
        )
    holds = most_reliable and fastest_flag
    sentence = (
        f"Adam reached f − f* ≤ {loose} from {format_rate(a, loose)} of starts, {reliability} "
        f"success rate (best of the others: {rival_text}); {speed}. "
        f"**The claim {'holds' if holds else 'does not hold'} here.**"
    )
    return sentence, holds


def _easom_note(records: Records, rows: Sequence[Row], loose: str) -> list[str]:
    if "easom" not in records.functions or "seed" not in records.start_sets:
        return []
    group = _rows_for(rows, "easom", "seed")
    best = max(r[f"success@{loose}"] for r in group)
    closest = min(r["median_distance"] for r in group)
    unit = records.unit(records.optimizers[0], "easom")
    starts = unit.start[np.asarray(unit.start_set).astype(str) == "seed"]
    _, grad = get("easom").value_and_grad(torch.as_tensor(starts, dtype=torch.float64))
    grad_norm = float(np.median(np.linalg.norm(grad.numpy(), axis=1)))
    if best == 0:
        return [
            f"On Easom from the seed box [-1, 1]² no optimizer reaches (π, π): every success "
            f"rate at {loose} is 0 of {group[0]['n']} starts, and the smallest median distance "
            f"of the last iterate to (π, π) is {closest:.2f}. The median gradient norm at these "
            f"starts is {grad_norm:.1e}: they lie on Easom's plateau, where the comparison "
            f"measures only which rule moves fastest on a near-zero gradient."
        ]
    return [
        f"On Easom from the seed box [-1, 1]² some runs did reach f − f* ≤ {loose}: the best "
        f"success rate is {best:.2f}; the seed's figure, with one start, could not show this."
    ]


def build_report(records: Records, rows: Sequence[Row], targets: tuple[float, float]) -> str:
    """The Markdown text of ``report.md`` (see the module docstring)."""
    spec = records.spec
    loose, tight = (target_key(t) for t in targets)
    lines = ["# Benchmark report", ""]
    lines += [
        f"Records: `{records.out.name}` "
        f"(spec fingerprint `{records.manifest['fingerprint'][:12]}`).",
        "",
        "## Protocol",
        "",
        f"{len(records.optimizers)} optimizers x {len(records.functions)} functions x "
        f"{len(records.start_sets)} start sets, {spec.steps:,} steps per run, dtype "
        f"{spec.dtype}, seed {spec.seed}. Every optimizer starts from the same points: each "
        f"start set is drawn once from the seed and shared by all optimizers.",
        "",
        "Optimizers (hyperparameters as run; *set* = given in the spec, *default* = the "
        "class default):",
        "",
        *_hyperparameters(records),
        "",
        "Functions: "
        + ", ".join(f"{_display(f, records)} (`{f}`)" for f in records.functions)
        + ".",
        "",
        "Start sets:",
        "",
    ]
    for start_set in records.start_sets:
        lines.append(
            f"- `{start_set}`: {n_starts(records, start_set)} starts, "
            f"{describe_start_set(records, start_set).replace('$^2$', '²').replace('$^d$', '^d')}"
        )
    lines += [
        "",
        "Targets on the gap f − f*: " + ", ".join(f"{t:g}" for t in spec.targets) + ". A run "
        "succeeds at a target when its best-so-far gap reaches it; steps to a target count "
        "optimizer steps (the start is step 0). Success rates carry 95 % Wilson intervals.",
        "",
        "## Figures",
        "",
        "Median best-so-far f − f* over the starts (band: 25-75 %), one panel per function:",
        "",
    ]
    for start_set in records.start_sets:
        lines += [f"![curves, start set {start_set}](figures/curves_{start_set}.png)", ""]
    lines += ["Paths of the same few starts for every optimizer:", ""]
    for function in records.functions:
        for start_set in records.start_sets:
            name = f"trajectories_{function}_{start_set}.png"
            surface = f"surface_{function}_{start_set}.png"
            lines.append(
                f"- [{_display(function, records)}, start set {start_set}](figures/{name}) "
                f"([on the 3D surface](figures/{surface}))"
            )
    lines += ["", "## Summary", "", format_markdown_table(rows).rstrip("\n"), ""]
    lines += ["## Per function", ""]
    for function in records.functions:
        lines += [f"### {_display(function, records)}", ""]
        for start_set in records.start_sets:
            group = _rows_for(rows, function, start_set)
            if group:
                text = " ".join(_function_sentences(group, loose, tight))
                lines += [f"- Start set `{start_set}`: {text}"]
        lines.append("")
    lines += [
        "## The seed's conclusions, checked",
        "",
        "The seed claimed that Adam converges faster and more reliably than SGD, AdaGrad and "
        f"RMSProp on these functions. Checked here as: Adam has the highest success rate at "
        f"f − f* ≤ {loose} and the fastest median steps to it (among successful runs).",
        "",
    ]
    holds: list[str] = []
    fails: list[str] = []
    for function in records.functions:
        for start_set in records.start_sets:
            group = _rows_for(rows, function, start_set)
            if not group:
                continue
            sentence, verdict = _claim_check(group, loose)
            where = f"{_display(function, records)} (`{start_set}`)"
            lines.append(f"- {where}: {sentence}")
            if verdict is True:
                holds.append(where)
            elif verdict is False:
                fails.append(where)
    lines += [""]
    if holds or fails:
        lines += [
            f"The claim holds on {len(holds)} of {len(holds) + len(fails)} function / start-set "
            f"pairs: {_join(holds) if holds else 'none'}. It does not hold on "
            f"{_join(fails) if fails else 'none'}.",
            "",
        ]
    lrs = {o.label: _lr_of(o) for o in spec.optimizers}
    lr_text = ", ".join(f"{k} {v}" for k, v in lrs.items())
    matched = len(set(lrs.values())) == 1
    lines += [
        "The seed's own comparison was not a fair one: it ran a single, unseeded start per "
        "function (one draw says nothing about reliability), and its learning rates were not "
        "matched: Adam and SGD at 1e-3, AdaGrad and RMSProp at their defaults of 1e-2. "
        f"Learning rates in this run: {lr_text}"
        + (" (matched)." if matched else " (not matched: read the comparison with that in mind)."),
        "",
        *_easom_note(records, rows, loose),
        "",
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _lr_of(opt: Any) -> str:
    if opt.lrs:
        return "/".join(f"{lr:g}" for lr in opt.lrs)
    try:
        _, group = validated_group(opt)
        return f"{float(group['lr']):g}"
    except (ValueError, KeyError):
        return "?"
