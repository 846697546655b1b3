"""CLI command modules beyond the core ones in pipeline/cli.py.

Each module here defines `register(sub, common)`: it adds its subparser(s) to `sub` (using `common`
as a parent for --library/--config/--json/-v) and sets `func` on them. `pipeline/cli.py` imports
every module of this package in name order, so adding a command never edits cli.py.
"""
