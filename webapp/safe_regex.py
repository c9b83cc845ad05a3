"""Tenant-written regular expressions (IVR navigation rules), run with RE2: matching takes time
linear in the text whatever the pattern, so no rule can stall a worker (Python's `re` backtracks:
`(.|.)*Z` never finishes on a long prompt). Patterns RE2 cannot compile (backreferences,
lookaround) are refused when saved; their length is capped too."""

from functools import lru_cache

import re2

MAX_PATTERN_LENGTH = 200
MAX_PROGRAM_MEMORY = 1 << 20  # bytes of compiled program per pattern


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_MEMORY
    return options


def check_pattern(pattern: str) -> None:
    """ValueError saying why `pattern` cannot be used."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"is a regular expression of {len(pattern)} characters; at most {MAX_PATTERN_LENGTH}")
    try:
        _compile(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"is not a regular expression this service runs (RE2 syntax, no backreferences or lookaround): {reason}"
        ) from None


@lru_cache(maxsize=512)
def _compile(pattern: str):
    return re2.compile(pattern, _options())


def search(pattern: str, text: str) -> bool:
    """Case-insensitive search; a pattern that cannot be used (saved before the checks) matches nothing."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return False
    try:
        return _compile(pattern).search(text) is not None
    except re2.error:
        return False
