"""The morning report: per-clip records from the catalog (data.py), contact sheets (contact.py), and a
self-contained HTML page plus the same data as JSON (html.py, build.py)."""
