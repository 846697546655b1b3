"""report.json's data -> one HTML page. No network: styles inline, images are files beside the page."""

from __future__ import annotations

from html import escape


def _e(v) -> str:
    return escape("" if v is None else str(v))


def _duration(seconds: float | None) -> str:
    if not seconds:
        return "-"
    s = int(round(seconds))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:24px;background:#fafafa;color:#222}
h1{margin:0 0 4px}table{border-collapse:collapse;width:100%;margin:8px 0 20px}
td,th{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eee}.bad{background:#fde8e8;border-left:4px solid #c62828;padding:8px 12px;margin:6px 0}
.warn{background:#fff6e0;border-left:4px solid #e0a000;padding:8px 12px;margin:6px 0}
.strip img{height:54px;margin-right:2px}.mono{font-family:'DejaVu Sans Mono',monospace;font-size:12px}
.ok{color:#2e7d32}.wline{color:#b26a00}.fail{color:#c62828;font-weight:bold}.totals td{border:0;padding:2px 16px 2px 0}
"""


def _mhl(m: dict) -> str:
    status = m.get("status") or "none"
    cls = "fail" if status == "mismatch" else "ok" if status == "verified" else ""
    return f'<span class="{cls}" title="{_e(m.get("detail"))}">{_e(status)}</span>'


def _stages(stages: dict) -> str:
    """A clip's stages in the order the ingest runs them: done ones plain, the others flagged."""
    return " ".join(
        _e(name) if status == "done" else f"<span class=fail>{_e(name)}: {_e(status)}</span>"
        for name, status in stages.items()
    )


def render(data: dict) -> str:
    t = data["totals"]
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>Dailies report {_e(data['day'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>Dailies report &mdash; {_e(data['day'] or 'no clips')}</h1>",
        f"<div class=mono>library {_e(data['library'])} &middot; generated {_e(data['generated_at'])}</div>",
    ]
    out.append("<h2>Failures</h2>" if data["failures"] else "<h2>Failures: none</h2>")
    for f in data["failures"]:
        out.append(f'<div class="bad failure"><b>{_e(f.get("clip") or f.get("card"))}</b><br>{_e(f["message"])}</div>')
    out.append("<h2>Warnings</h2>" if data["warnings"] else "<h2>Warnings: none</h2>")
    for w in data["warnings"]:
        out.append(f'<div class="warn warning"><b>{_e(w.get("clip") or w.get("card"))}</b><br>{_e(w["message"])}</div>')
    out.append(
        "<h2>Totals</h2><table class=totals><tr>"
        + "".join(
            f"<td>{_e(k)}<br><b>{_e(v)}</b></td>"
            for k, v in [
                ("clips", t["clips"]),
                ("ok", t["ok"]),
                ("failed", t["failed"]),
                ("skipped (not video)", t["skipped"]),
                ("footage", _duration(t["duration_seconds"])),
                ("shots", t["shots"]),
                ("proxies", t["proxies"]),
                ("proxy size", f"{t['bytes_proxies'] / 1e6:.1f} MB"),
                ("MHL", ", ".join(f"{k} {v}" for k, v in t["mhl"].items())),
            ]
        )
        + "</tr></table>"
    )
    if data["cards"]:
        out.append("<h2>Cards</h2><table><tr><th>card</th><th>MHL</th><th>generation</th><th>detail</th></tr>")
        for c in data["cards"]:
            out.append(
                f"<tr><td class=mono>{_e(c['path'])}</td><td>{_e(c['mhl_status'])} ({_e(c['algorithm'])})</td>"
                f"<td class=mono>{_e(c['generation'])}</td><td>{_e(c['detail'])}</td></tr>"
            )
        out.append("</table>")
    out.append(
        "<h2>Clips</h2><table><tr><th>clip</th><th>thumbnails</th><th>reel</th><th>source TC in / out</th>"
        "<th>duration</th><th>shots</th><th>proxies</th><th>checksum</th><th>MHL</th></tr>"
    )
    for c in data["clips"]:
        tc = c["source_tc"]
        strip = "".join(
            f'<img src="{_e(s["src"])}" alt="{_e(s["tc"])}" title="shot {s["shot"] + 1} {_e(s["tc"])}">'
            for s in c.get("strip", [])
        )
        if c.get("contact_sheet"):
            strip += f'<br><a href="{_e(c["contact_sheet"])}">contact sheet</a>'
        status = "" if c["status"] == "ok" else f"<br><span class=fail>{_e(c['status'])}: {_e(c['error'])}</span>"
        status += "".join(f"<br><span class=wline>warning: {_e(w)}</span>" for w in c.get("warnings", []))
        proxies = (
            "<br>".join(f"{_e(p['preset'])}: <span class=mono>{_e(p['path'])}</span>" for p in c["proxies"]) or "-"
        )
        out.append(
            f'<tr class=clip data-clip-id="{c["id"]}"><td><b>{_e(c["name"])}</b><br>'
            f"<span class=mono>{_e(c['path'])}</span>{status}"
            f"<br><small class=stages>stages: {_stages(c.get('stages', {}))}</small></td>"
            f"<td class=strip>{strip}</td><td>{_e(c['reel'] or '-')}<br>"
            f"<small>{_e(c['reel_source'] or '')}</small></td>"
            f"<td class=mono>{_e(tc['start']) + ' / ' + _e(tc['end']) if tc else 'no source TC'}</td>"
            f"<td>{_duration(c['duration'])}<br><small>{_e(c['frame_count'])} fr @ {_e(c['fps'])}</small></td>"
            f"<td>{c['shots']}</td><td>{proxies}</td><td class=mono>{_e(c['checksum'])}</td>"
            f"<td>{_mhl(c['mhl'])}</td></tr>"
        )
    out.append("</table>")
    if data["skipped"]:
        out.append(f"<details><summary>{len(data['skipped'])} file(s) skipped (not video)</summary><ul>")
        out += [
            f"<li><span class=mono>{_e(s['path'])}</span><br><small>{_e(s['message'] or '')}</small></li>"
            for s in data["skipped"]
        ]
        out.append("</ul></details>")
    out.append("</body></html>\n")
    return "\n".join(out)
