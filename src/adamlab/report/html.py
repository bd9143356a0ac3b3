"""``adamlab report DIR``: Markdown and a self-contained HTML page, from records only.

Works on an ``adamlab run`` folder (records in DIR; with its tuned sweep in ``DIR/tuned``
when there is one, see :mod:`adamlab.report.regimes`) and on an ``adamlab sweep`` folder
(``DIR/sweep.json``, evaluation records in ``DIR/evaluation``, tuning records in
``DIR/tuning``). Nothing is re-run: figures, animations and tables are rebuilt from records.

Files written into DIR::

    figures/...                    the run figures (curves, trajectories), the runtime ECDFs,
                                   the performance profile, lr sensitivity (sweep)
    animations/<function>.gif      all optimizers moving together from the same starts
    summary.csv, summary.md        the summary table
    report.md                      protocol, tuning budget, tables, figures, findings
    report.html                    the same page; PNG figures embedded as data URIs, GIFs
                                   linked beside it (relative paths); no script, no network
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from adamlab.bench.records import Records, atomic_write_text
from adamlab.plot.animation import render_frames, save_gif
from adamlab.plot.stats import (
    ecdf_figure,
    lr_sensitivity_figure,
    performance_profile_figure,
)
from adamlab.report.regimes import regimes_section
from adamlab.report.run_report import _save, write_run_outputs

__all__ = ["markdown_to_html", "write_report"]

#: Frames per animation in the report.
REPORT_FRAMES = 40
_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       line-height: 1.5; color: #222; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f2f2f2; }
code { background: #f4f4f4; padding: 0 3px; }
h1, h2, h3 { border-bottom: 1px solid #eee; }
"""


def _inline(text: str, base: Path, embed: bool) -> str:
    """Inline Markdown (images, links, code, bold, italics) to HTML, escaping the rest."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        escaped = html.escape(part, quote=False)

        def image(match: re.Match[str]) -> str:
            alt, src = match.group(1), match.group(2)
            return f'<img alt="{html.escape(alt)}" src="{_source(src, base, embed)}">'

        escaped = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", image, escaped)
        escaped = re.sub(
            r"\[([^\]]+)\]\(([^)]+)\)",
            lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>',
            escaped,
        )
        escaped = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
        escaped = re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?![*\w])", r"<em>\1</em>", escaped)
        out.append(escaped)
    return "".join(out)


def _source(src: str, base: Path, embed: bool) -> str:
    path = base / src
    if embed and src.lower().endswith(".png") and path.is_file():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"data:image/png;base64,{data}"
    return html.escape(src)


def markdown_to_html(text: str, base: str | Path = ".", *, embed: bool = True) -> str:
    """The subset of Markdown the reports use (headings, paragraphs, lists, pipe tables,
    images, links, code, bold, italics) as an HTML ``<body>`` fragment.

    >>> markdown_to_html("# Title\\n\\nSome **bold** `x`.")
    '<h1>Title</h1>\\n<p>Some <strong>bold</strong> <code>x</code>.</p>'
    """
    base = Path(base)
    blocks: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{_inline(heading.group(2), base, embed)}</h{level}>")
            i += 1
        elif line.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            body = [r for r in rows if not all(re.fullmatch(r":?-+:?", c) for c in r)]
            table = ["<table>"]
            for n, row in enumerate(body):
                tag = "th" if n == 0 else "td"
                cells = "".join(f"<{tag}>{_inline(c, base, embed)}</{tag}>" for c in row)
                table.append(f"<tr>{cells}</tr>")
            table.append("</table>")
            blocks.append("\n".join(table))
        elif re.match(r"^\s*- ", line):
            items = []
            while i < len(lines) and re.match(r"^\s*- ", lines[i]):
                items.append(f"<li>{_inline(lines[i].split('- ', 1)[1], base, embed)}</li>")
                i += 1
            blocks.append("<ul>\n" + "\n".join(items) + "\n</ul>")
        else:
            para = []
            while (
                i < len(lines)
                and lines[i].strip()
                and not re.match(r"^(#{1,6}\s|\s*- |\s*\|)", lines[i])
            ):
                para.append(lines[i].strip())
                i += 1
            blocks.append(f"<p>{_inline(' '.join(para), base, embed)}</p>")
    return "\n".join(blocks)


def html_page(markdown: str, base: Path, title: str = "adamlab report") -> str:
    """A complete, self-contained HTML page (inline CSS, no script, no external resource)."""
    body = markdown_to_html(markdown, base)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _stats_sections(records: Records, out: Path, written: list[Path]) -> list[str]:
    lines = [
        "## Runtime ECDFs and performance profile",
        "",
        "Runtime ECDF (COCO): for each budget of gradient evaluations, the fraction of "
        "(start, target) pairs whose target was reached within it; aggregated over functions "
        "with equal weight per function, per category and overall. Performance profile "
        "(Dolan & Moré): each (function, target) pair is a problem, the cost is the aRT there "
        "(evaluations summed over all runs until each hit the target or ended, divided by the "
        "successes); rho(tau) is the fraction of problems solved within tau times the best "
        "solver's aRT. The area score (AlgoPerf) is the mean height of rho for tau in [1, 4].",
        "",
    ]
    for start_set in records.start_sets:
        ecdf = _save(ecdf_figure(records, start_set), out / "figures" / f"ecdf_{start_set}.png")
        profile = _save(
            performance_profile_figure(records, start_set),
            out / "figures" / f"profile_{start_set}.png",
        )
        written += [ecdf, profile]
        lines += [
            f"![runtime ECDFs, start set {start_set}](figures/{ecdf.name})",
            "",
            f"![performance profile, start set {start_set}](figures/{profile.name})",
            "",
        ]
    return lines


def _animation_section(records: Records, out: Path, written: list[Path]) -> list[str]:
    if records.spec.trace_rows == 0:
        return []
    start_set = records.start_sets[0]
    lines = [
        "## Animations",
        "",
        f"Every optimizer moving together from the same starts (start set `{start_set}`); "
        "frames at log-spaced steps, so early and late progress both show.",
        "",
    ]
    for function in records.functions:
        if records.unit(records.optimizers[0], function).dim != 2:
            continue
        frames = render_frames(records, function, start_set, count=4, max_frames=REPORT_FRAMES)
        path = save_gif(frames, out / "animations" / f"{function}.gif")
        written.append(path)
        lines += [f"![{function} animation](animations/{path.name})", ""]
    return lines


def _sweep_section(
    sweep: dict[str, Any], tuning: Records, out: Path, written: list[Path]
) -> list[str]:
    chosen = {label: choice["lr"] for label, choice in sweep["choices"].items()}
    figure = _save(
        lr_sensitivity_figure(tuning, start_set=sweep["tune_start_set"], chosen=chosen),
        out / "figures" / "lr_sensitivity.png",
    )
    written.append(figure)
    grid = sweep["lr_grid"]
    lines = [
        "## Learning-rate tuning",
        "",
        f"Every optimizer ran the same grid of {len(grid)} learning rates, log-spaced from "
        f"{grid[0]:g} to {grid[-1]:g}, on every function from {sweep['tune_starts']} tuning "
        f"starts per function (start set `{sweep['tune_start_set']}`). The evaluation below "
        f"uses {sweep['eval_starts']} fresh starts per function (start set "
        f"`{sweep['eval_start_set']}`, drawn independently of the tuning starts), and the same "
        "number of steps as the tuning. Each optimizer appears twice: at its given settings "
        "and, as `<name>-tuned`, at the single learning rate chosen for all functions "
        "(COCO's rule: the same parameters on every function).",
        "",
        f"Scoring (target f − f* ≤ {sweep['target']:g}): {sweep['scoring']}",
        "",
        sweep["budget_text"],
        "",
        "| optimizer | lr for all functions | "
        + " | ".join(f"best lr on {f}" for f in tuning.functions)
        + " |",
        "|---|---|" + "---|" * len(tuning.functions),
    ]
    for label, choice in sweep["choices"].items():
        per = " | ".join(f"{choice['per_function'][f]['lr']:g}" for f in tuning.functions)
        lines.append(f"| {label} | {choice['lr']:g} | {per} |")
    lines += [
        "",
        "Learning-rate sensitivity on the tuning starts (ring: the chosen single lr):",
        "",
        f"![learning-rate sensitivity](figures/{figure.name})",
        "",
    ]
    return lines


def write_report(directory: str | Path) -> list[Path]:
    """Build ``report.md`` and ``report.html`` (and their figures) in ``directory``.

    Returns:
        The paths written.

    Raises:
        ValueError: if ``directory`` holds neither run records nor a sweep.
    """
    from adamlab.bench.sweep import EVALUATION_DIR, SWEEP_JSON, TUNING_DIR, read_sweep

    out = Path(directory)
    sweep = read_sweep(out) if (out / SWEEP_JSON).exists() else None
    records = Records(out / EVALUATION_DIR if sweep else out)
    written = write_run_outputs(records, out)
    run_markdown = (out / "report.md").read_text(encoding="utf-8")
    head, _, rest = run_markdown.partition("## Figures")
    extra: list[str] = []
    if sweep is not None:
        extra += _sweep_section(sweep, Records(out / TUNING_DIR), out, written)
    else:
        extra += regimes_section(out, written)
    extra += _stats_sections(records, out, written)
    extra += _animation_section(records, out, written)
    markdown = head + "\n".join(extra) + "\n## Figures" + rest
    if sweep is not None:
        markdown = markdown.replace("# Benchmark report", "# Benchmark report: tuned sweep", 1)
    atomic_write_text(out / "report.md", markdown)
    atomic_write_text(out / "report.html", html_page(markdown, out))
    written += [out / "report.html"]
    return written
