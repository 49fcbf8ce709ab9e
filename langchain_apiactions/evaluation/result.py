"""`EvalResult`: an eval run's metrics, with the ways to look at them (HTML, a plot)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_apiactions.evaluation.html import plot_confusion, render_fragment, render_page
from langchain_apiactions.evaluation.metrics import EvalMetrics

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["EvalResult"]


@dataclass
class EvalResult(EvalMetrics):
    """Metrics over a case set; `to_json()` for files, `to_html()` / `plot()` to look at.

    Attributes:
        source: The action file (or `<actions>`).
        cases: One `CaseResult` per case, in the cases' order.
        labels: The actions, then any other name chosen or expected, then `none`.
        run: How the run was made (model, time, hashes, usage, counts).
        descriptions: Each action's `when_to_use`, as the model read it.
        warnings: Problems with the measurement itself (a holdout case copied into a
            description).
        selection: With `evaluate(..., select=K)`: Recall@K of action selection and the
            tool-schema characters per model call (None otherwise).
    """

    selection: Any = None  # a `SelectionReport` (evaluation.selecting)

    def to_html(self, *, compare: EvalMetrics | None = None, title: str | None = None) -> str:
        """The report as one self-contained HTML page (what `apiactions eval --html` writes):
        summary, per-action P/R/F1, confusion heatmap, per-tag accuracy, every case, and
        with `compare` the fixed/broken lists and the description diff.

        Args:
            compare: A second run over the same cases (the B side of an A/B).
            title: The page's title (default: the action file's name).

        Returns:
            The page, HTML-escaped throughout.
        """
        return render_page(self, compare=compare, title=title)

    def _repr_html_(self) -> str:
        """The same report inline in a notebook."""
        return render_fragment(self)

    def plot(self, *, title: str | None = None) -> Figure:
        """The confusion matrix as a matplotlib figure (needs `matplotlib`: extra `plot`).

        Args:
            title: The figure's title.

        Returns:
            The figure (rows expected, columns chosen).

        Raises:
            ImportError: matplotlib is not installed.
        """
        return plot_confusion(self, title=title)
