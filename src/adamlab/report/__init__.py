"""Reports from records: Markdown text and figure files, deterministic, never re-running.

Modules:
    run_report: the outputs of ``adamlab run`` (:func:`write_run_outputs`).
"""

from adamlab.report.run_report import build_report, write_run_outputs

__all__ = ["build_report", "write_run_outputs"]
