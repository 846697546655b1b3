"""The web UI: `dailies serve` (FastAPI, pages rendered on the server with Jinja2, a little plain JS).

app.py builds the application; state.py holds what lives for the server's lifetime (reader
connections, the lazily loaded model, the cached index); searching.py is the web glue of
`pipeline.search` (errors shown on the page, cards as JSON); security.py is the token, CSRF, host
and upload-size guard; routes/ has one module per page.
"""
