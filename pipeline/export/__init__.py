"""Exports that relink in the NLE: selects, search hits or tagged takes -> OTIO / EDL / ALE / FCP XML.

`EXPORTERS` maps a format name to (writer, file suffixes, OTIO adapter for reading it back). A format
is chosen by name or by the output file's suffix; an unknown name is answered with the list.
Library functions: `export_bytes(items, fmt)`, `export_file(items, path, fmt=None)`, `read_back(path, fmt)`;
item builders from the catalog are in `pipeline.editorial.items`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import ExportSettings
from pipeline.errors import UsageError
from pipeline.export import formats
from pipeline.export.timeline import ExportItem, as_written, build_timeline

EXPORTERS = {
    "otio": (formats.write_otio, (".otio",), "otio_json"),
    "edl": (formats.write_edl, (".edl",), "cmx_3600"),
    "ale": (formats.write_ale, (".ale",), "ale"),
    "xml": (formats.write_fcp_xml, (".xml",), "fcp_xml"),  # FCP 7 XML (xmeml): Premiere, Resolve
    "fcpxml": (formats.write_fcpx_xml, (".fcpxml",), "fcpx_xml"),  # FCPXML: Final Cut Pro X
}
ALIASES = {"fcpx": "fcpxml"}  # names of earlier releases that still work (see `renamed`)

__all__ = [
    "ALIASES",
    "EXPORTERS",
    "ExportItem",
    "build_timeline",
    "export_bytes",
    "export_file",
    "format_for",
    "read_back",
    "renamed",
]


def format_for(fmt: str | None, path: str | Path | None = None) -> str:
    """The exporter name for an explicit --format, else for the output file's suffix."""
    suffix = Path(path or "").suffix.lower()
    if fmt:
        fmt = fmt.lower()
        if fmt == "fcpxml" and suffix == ".xml":  # what --format fcpxml meant before: FCP 7 XML (see `renamed`)
            return "xml"
        fmt = ALIASES.get(fmt, fmt)
        if fmt not in EXPORTERS:
            raise UsageError(f"unknown export format {fmt!r}; known: {', '.join(EXPORTERS)}")
        # a known suffix of another format would make the NLE misread the file (FCP 7 XML in a .fcpxml)
        other = next((n for n, (_w, s, _a) in EXPORTERS.items() if suffix in s and n != fmt), None)
        if other:
            raise UsageError(
                f"--format {fmt} writes {EXPORTERS[fmt][1][0]} files but {str(path)!r} is a {other} "
                f"file name; use --format {other}, or -o with the suffix {EXPORTERS[fmt][1][0]}"
            )
        return fmt
    for name, (_w, suffixes, _a) in EXPORTERS.items():
        if suffix in suffixes:
            return name
    known = ", ".join(f"{n} ({'/'.join(s)})" for n, (_w, s, _a) in EXPORTERS.items())
    raise UsageError(f"cannot tell the export format from {str(path)!r}; give --format, one of: {known}")


def renamed(fmt: str | None, path: str | Path | None = None) -> str | None:
    """A note when `fmt` is a format name of an earlier release: `fcpx` is now `fcpxml`; `fcpxml` with a .xml
    file still writes FCP 7 XML, whose name is now `xml` (FCPXML is Final Cut Pro X's format, .fcpxml)."""
    if not fmt:
        return None
    if fmt.lower() == "fcpxml" and Path(path or "").suffix.lower() == ".xml":
        return (
            "--format fcpxml with a .xml file wrote FCP 7 XML, as before; FCPXML now names Final Cut Pro X's "
            "format (.fcpxml): use --format xml for FCP 7 XML (Premiere, Resolve)"
        )
    if fmt.lower() in ALIASES:
        return f"--format {fmt} is now --format {ALIASES[fmt.lower()]} (Final Cut Pro X); the old name still works"
    return None


def export_bytes(
    items: list[ExportItem], fmt: str, name: str = "Dailies selects", settings: ExportSettings | None = None
) -> bytes:
    """The file content of `items` in format `fmt` (see EXPORTERS), written as `settings` ([export]) say:
    tape names, record start, path map."""
    if not items:
        raise UsageError("nothing to export: the list is empty")
    settings = settings or ExportSettings()
    writer = EXPORTERS[format_for(fmt)][0]
    items = as_written(items, settings)
    tl = build_timeline(items, name, settings.record_start)
    tl.metadata["dailies_export"] = {"edl_format": settings.edl_format}  # what the EDL writer reads
    return writer(tl, items)


def export_file(
    items: list[ExportItem],
    path: str | Path,
    fmt: str | None = None,
    name: str = "Dailies selects",
    settings: ExportSettings | None = None,
) -> str:
    """Write `items` to `path` (temp file, then rename); returns the format used."""
    import os

    fmt = format_for(fmt, path)
    data = export_bytes(items, fmt, name, settings)
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, p)
    return fmt


def read_back(path: str | Path, fmt: str | None = None, rate: float | None = None):
    """Import an export (or an NLE's file of the same format) through OTIO's adapter: the relink check.

    A file the adapter cannot read raises UsageError naming it (OTIO's EDL reader raises its own parse
    error or a bare ValueError, depending on where a line goes wrong)."""
    import opentimelineio as otio

    fmt = format_for(fmt, path)
    adapter = EXPORTERS[fmt][2]
    kwargs = {"rate": rate} if adapter == "cmx_3600" and rate else {}
    try:
        if adapter == "fcpx_xml":  # the adapter's reader truncates 23.976 to 23 fps; see fcpx_read
            from pipeline.export.fcpx_read import exact_rates

            with exact_rates():
                return otio.adapters.read_from_file(str(path), adapter_name=adapter)
        return otio.adapters.read_from_file(str(path), adapter_name=adapter, **kwargs)
    except (otio.exceptions.OTIOError, ValueError, SyntaxError) as exc:  # SyntaxError: XML ParseError
        raise UsageError(
            f"{path}: not an {fmt.upper()} file OTIO can read ({exc}); check that it was written "
            f"completely, or export it again"
        ) from None
    except (AttributeError, KeyError, TypeError, IndexError, ZeroDivisionError) as exc:
        # the adapters' readers fail this way on structures they do not handle (FCP X compound and
        # multicam clips, roles lists): the file is valid, the reader's coverage ends there
        raise UsageError(
            f"{path}: OTIO's {adapter} reader cannot read this file's structure "
            f"({type(exc).__name__}: {exc}); open it in the NLE, or export the timeline flattened"
        ) from None
