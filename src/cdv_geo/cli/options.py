"""Options shared by the ``cdv-geo`` subcommands, and the progress bar."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click

__all__ = [
    "Options",
    "asset_dir_option",
    "assets_option",
    "lang_option",
    "out_option",
    "progress",
    "project_argument",
]

T = TypeVar("T")

log = logging.getLogger("cdv_geo")


@dataclass
class Options:
    """Global options of one ``cdv-geo`` invocation."""

    verbose: bool = False
    quiet: bool = False


def project_argument(f: click.decorators.FC) -> click.decorators.FC:
    """Add the PROJECT argument (a ``project.toml``)."""
    return click.argument(
        "project", type=click.Path(dir_okay=False, path_type=Path), metavar="PROJECT.toml"
    )(f)


def out_option(default: str | None = None) -> click.decorators.FC:  # type: ignore[type-var]
    """Add ``--out DIR`` (the output folder)."""
    return click.option(  # type: ignore[return-value]
        "--out",
        "-o",
        type=click.Path(file_okay=False, path_type=Path),
        default=default,
        required=default is None,
        show_default=True,
        help="Output folder (created if missing).",
    )


lang_option = click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default="fr",
    show_default=True,
    help="Language of labels, tables and maps.",
)

assets_option = click.option(
    "--assets",
    type=click.Choice(["cdn", "inline"]),
    default="cdn",
    show_default=True,
    help="Maps load JavaScript/CSS from a CDN, or embed them (inline: run "
    "`cdv-geo assets fetch` once first).",
)


asset_dir_option = click.option(
    "--asset-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding the JS/CSS files for --assets inline (e.g. node_modules); default: "
    "the cache filled by `cdv-geo assets fetch`.",
)


def progress(items: Iterable[T], desc: str, *, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on a terminal; silent in a pipe or with ``--quiet``."""
    ctx = click.get_current_context(silent=True)
    opts = ctx.find_object(Options) if ctx else None
    quiet = opts.quiet if opts else True
    if quiet or not sys.stderr.isatty():
        for item in items:
            log.info("%s", desc)
            yield item
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, file=sys.stderr, leave=False)
