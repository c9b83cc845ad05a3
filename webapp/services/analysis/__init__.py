"""Local, deterministic call analysis: reads a transcript (and keypad events) into the report
shape documented in docs/api.md, and cuts the short excerpts that webhook payloads carry."""

from .report import analyze_call
from .summary import report_excerpt, transcript_excerpt

__all__ = ["analyze_call", "report_excerpt", "transcript_excerpt"]
