"""Matplotlib figures. Plot functions take data and an Axes and return what they drew.

They never run optimizers and never save files: the command line chooses file names. Figures are
built with :class:`matplotlib.figure.Figure` directly, so no pyplot backend is needed.

Modules:
    surfaces: test-function surfaces and contour maps (:mod:`adamlab.plot.surfaces`).
"""
