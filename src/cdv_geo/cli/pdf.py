"""Whether this computer can print the PDF dossier, and what to install when it cannot.

WeasyPrint, which prints the dossier, lays out text with **pango**, a system library that
``pip`` does not install: Windows has none, macOS has it from Homebrew, Linux from its
packages. Without it, importing WeasyPrint (or, rarely, rendering) fails with an ``OSError``
such as ``cannot load library 'libpango-1.0-0'``. The commands then write everything else of
the pack, print one line saying what to install on this system, and exit with
:data:`PDF_MISSING_EXIT` (see :func:`write_pack`).
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import click

__all__ = [
    "PDF_MISSING_EXIT",
    "WEASYPRINT_DOCS",
    "exit_if_pdf_missing",
    "install_hint",
    "is_library_error",
    "load_weasyprint",
    "pdf_missing_line",
    "pdf_problem",
    "write_pack",
]

#: Exit code of a command that wrote everything but the PDF (pango missing). 1 is an
#: unexpected failure and 2 a data or usage error (``cdv_geo.cli``).
PDF_MISSING_EXIT = 3

#: WeasyPrint's installation page (per platform).
WEASYPRINT_DOCS = "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html"


def load_weasyprint() -> ModuleType:
    """Import WeasyPrint and return it; ``OSError`` when pango cannot be loaded.

    WeasyPrint prints a banner of its own when a library is missing: it is silenced, the
    command says it in one line instead.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        import weasyprint
    return weasyprint


def is_library_error(exc: BaseException) -> bool:
    """Tell whether `exc` (or its cause) is a system library that cannot be loaded.

    A full disk or a folder without write permission is an ``OSError`` too: only a library
    that fails to load means "install pango".

    Examples
    --------
    >>> is_library_error(OSError("cannot load library 'libpango-1.0-0': not found"))
    True
    >>> is_library_error(OSError(28, "No space left on device"))
    False
    """
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).lower()
        if isinstance(seen, OSError) and (
            "cannot load library" in text
            or ("library" in text and any(n in text for n in ("pango", "gobject", "harfbuzz")))
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def pdf_problem() -> str | None:
    """Return None when this computer can print the dossier, else why not (plain words).

    Examples
    --------
    >>> pdf_problem() is None or "pango" in pdf_problem() or "WeasyPrint" in pdf_problem()
    True
    """
    try:
        load_weasyprint()
    except OSError as exc:
        if is_library_error(exc):
            return "the pango library is missing on this computer"
        return f"WeasyPrint cannot start ({' '.join(str(exc).split())[:160]})"
    except ImportError:
        return "WeasyPrint is not installed (pip install weasyprint)"
    return None


def install_hint(platform: str | None = None) -> str:
    """Return what to install for the PDF on `platform` (default: this one), in one sentence.

    Parameters
    ----------
    platform : str, optional
        A ``sys.platform`` value (``"win32"``, ``"darwin"``, ``"linux"``...).

    Examples
    --------
    >>> install_hint("darwin")
    'install pango with Homebrew: brew install pango'
    >>> "apt install libpango-1.0-0 libpangoft2-1.0-0" in install_hint("linux")
    True
    """
    platform = sys.platform if platform is None else platform
    if platform.startswith("win"):
        return (
            "install MSYS2 (https://www.msys2.org), run `pacman -S mingw-w64-x86_64-pango` in "
            r"its terminal, then set WEASYPRINT_DLL_DIRECTORIES=C:\msys64\mingw64\bin "
            f"(details: {WEASYPRINT_DOCS})"
        )
    if platform == "darwin":
        return "install pango with Homebrew: brew install pango"
    return (
        "install pango: sudo apt install libpango-1.0-0 libpangoft2-1.0-0 (Debian, Ubuntu), "
        "sudo dnf install pango (Fedora)"
    )


def pdf_missing_line(problem: str, out: Path, *, platform: str | None = None) -> str:
    """Return the one line a command prints when it wrote everything but the PDF.

    Examples
    --------
    >>> pdf_missing_line("the pango library is missing on this computer", Path("pack"),
    ...                  platform="darwin")  # doctest: +NORMALIZE_WHITESPACE
    'PDF dossier not written: the pango library is missing on this computer. The maps, tables
    and index are in pack. For the PDF, install pango with Homebrew: brew install pango, then
    run the command again.'
    """
    return (
        f"PDF dossier not written: {problem}. The maps, tables and index are in {out}. "
        f"For the PDF, {install_hint(platform)}, then run the command again."
    )


def write_pack(build: Callable[[bool], Path], *, dossier: bool) -> tuple[Path, str | None]:
    """Write a committee pack, with its PDF when asked and possible; return (index, problem).

    Parameters
    ----------
    build : callable
        ``build(dossier)`` writes the pack (with the PDF when ``dossier`` is true) and
        returns its ``index.html``.
    dossier : bool
        Whether the PDF was asked for.

    Returns
    -------
    index : pathlib.Path
    problem : str or None
        Why the PDF was not written (None when it was, or was not asked for).

    Examples
    --------
    >>> index, problem = write_pack(lambda pdf: Path("pack/index.html"), dossier=False)
    >>> index.name, problem
    ('index.html', None)
    """
    if not dossier:
        return build(False), None
    problem = pdf_problem()
    if problem is not None:
        return build(False), problem
    try:
        return build(True), None
    except OSError as exc:
        if not is_library_error(exc):
            raise
        # WeasyPrint imported but a library failed while printing (after the tables and
        # maps, before the index): the pack is written again without the PDF.
        return build(False), "the pango library is missing or incomplete on this computer"


def exit_if_pdf_missing(problem: str | None, out: Path) -> None:
    """Print :func:`pdf_missing_line` and exit with :data:`PDF_MISSING_EXIT` when `problem`.

    The end of a command that writes a pack (:func:`write_pack`): nothing when the PDF was
    written or not asked for.
    """
    if problem is not None:
        click.echo(pdf_missing_line(problem, out), err=True)
        click.get_current_context().exit(PDF_MISSING_EXIT)
