"""`dailies index rebuild`: the vector index rebuilt from the stored vectors."""

from __future__ import annotations

from pipeline.cli.common import emit, library_of, model_note, settings_of
from pipeline.errors import CatalogError, UsageError


def run(args) -> int:
    from pipeline.catalog import open_catalog
    from pipeline.index import rebuild

    settings = settings_of(args)
    catalog = open_catalog(library_of(args), create=False)
    try:
        model_id = catalog.meta_get("model")
        if not model_id:
            raise UsageError("this library has no embeddings: nothing to index")
        model = catalog.model(model_id)
        if model is None:
            raise CatalogError(
                f"{catalog.root}: the catalog names model {model_id} but holds no record of it; "
                f"run `dailies ingest` on the cards again to embed them"
            )
        vi = rebuild(catalog, model_id, model["dim"], settings.index)
        vi.save(catalog.root)
        note = model_note(catalog, model_id)
    finally:
        catalog.close()
    human = f"index rebuilt: {vi.ntotal} vectors, {vi.spec.describe()} ({model_id})"
    if "warning" in note:
        human += f"\nwarning: {note['warning']}"
    emit(args, {"model": model_id, **note, "total": vi.ntotal, "kind": vi.spec.describe()}, human)
    return 0


def register(sub, common) -> None:
    p = sub.add_parser("index", parents=[common], help="rebuild the vector index from the stored vectors")
    p.add_argument("action", choices=["rebuild"])
    p.set_defaults(func=run)
