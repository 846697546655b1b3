"""`dailies clips`: catalogued clips with probe data and stage status (stages in the order of
`pipeline.ingest.stages.STAGES`)."""

from __future__ import annotations

import json

from pipeline.cli.common import emit, library_of, model_note


def _stage_summary(stages: dict, missing: list[str]) -> str:
    return " ".join([f"{name}:{run['status']}" for name, run in stages.items()] + [f"{m}:missing" for m in missing])


def run(args) -> int:
    from pipeline.catalog import open_reader
    from pipeline.ingest.stages import in_order, missing
    from pipeline.report.data import editorial, warnings

    catalog = open_reader(library_of(args))  # a reader: never migrates, never writes
    try:
        out = []
        with catalog.snapshot():  # one committed state, even while an ingest writes
            model = catalog.meta_get("model")
            note = model_note(catalog, model)
            for c in catalog.clips():
                runs = catalog.stage_runs(c["id"])
                out.append(
                    {
                        "id": c["id"],
                        "path": c["path"],
                        "status": c["status"],
                        "error": c["error"],
                        "content_hash": c["content_hash"],
                        "size": c["size"],
                        "probe": json.loads(c["probe_json"]) if c["probe_json"] else None,
                        "shots": catalog.count_shots(c["id"]),
                        "warnings": warnings(runs),
                        "missing_stages": missing(c["status"], runs),
                        "stages": {
                            k: {"status": r["status"], "detail": r["detail"], "finished_at": r["finished_at"]}
                            for k, r in in_order(runs)
                        },
                        **editorial(catalog, c),
                    }
                )
    finally:
        catalog.close()
    human = "\n".join(
        f"{c['status']:8s} {c['shots']:4d} shots  reel {c['reel'] or '-':8s} "
        f"{(c['source_tc'] or {}).get('start') or '--:--:--:--'}  mhl:{c['mhl']['status'] or '-'}  "
        f"{_stage_summary(c['stages'], c['missing_stages'])}  {c['path']}"
        for c in out
    )
    if "warning" in note:
        human = f"warning: {note['warning']}\n{human}"
    emit(args, {"library": str(library_of(args)), "model": model, **note, "clips": out}, human or "library is empty")
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("clips", parents=[common], help="catalogued clips with probe data and stage status")
    p.set_defaults(func=run)
