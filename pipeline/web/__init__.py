"""The web UI: `dailies serve` (FastAPI, pages rendered on the server with Jinja2, a little plain JS).

app.py builds the application; state.py holds what lives for the server's lifetime (reader
connections, the lazily loaded model, the cached index); render.py renders pages; security.py is the
token, CSRF, host and upload-size guard. routes/ has one module per page; what several routes share
lives in modules of its own, never in a route module: params.py (request parameter types and the
search query), searching.py and selecting.py (the web glue of `pipeline.search` and of the selects),
playback.py (what a browser can play).
"""
