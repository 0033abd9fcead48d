"""The report as one self-contained HTML page: no network (CSP `default-src 'none'`), no
external font or script, the timeline inline as SVG, prints cleanly to PDF."""

from __future__ import annotations

from html import escape
from typing import Any

from sentinel.report.words import Words

MAX_INCIDENTS_SHOWN = 500  # past these, a line says how many more the JSON lists
MAX_FILES_SHOWN = 50

CSS = """
body{font-family:sans-serif;color:#1b2631;margin:2em auto;max-width:62em;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ccc;
margin-top:1.6em}h3{font-size:1.05em;margin:1em 0 .3em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.4em 0}
th,td{border:1px solid #d5d8dc;padding:.25em .45em;text-align:left;vertical-align:top}
th{background:#f2f3f4}td.n{text-align:right;white-space:nowrap}
.sev-critical{color:#a93226;font-weight:bold}.sev-warning{color:#ba4a00;font-weight:bold}
.glance{display:flex;flex-wrap:wrap;gap:.6em}.glance div{border:1px solid #d5d8dc;
padding:.4em .8em;border-radius:4px}.glance b{font-size:1.3em;display:block}
.incident{border:1px solid #d5d8dc;border-left:6px solid #aab7b8;padding:.2em .8em;
margin:.8em 0;page-break-inside:avoid;break-inside:avoid}
.incident.critical{border-left-color:#a93226}.incident.warning{border-left-color:#e67e22}
.note{color:#566573;font-size:.9em}.write{font-style:italic;color:#566573;border:1px dashed
#aab7b8;min-height:3em;padding:.4em}.figure svg{width:100%;height:auto}
code{font-size:.9em;word-break:break-all}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{page-break-after:avoid;
break-after:avoid}.art33{page-break-before:always;break-before:page}
.figure{page-break-inside:avoid;break-inside:avoid}a{color:inherit;text-decoration:none}}
@page{size:A4;margin:15mm}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


class _Page:
    def __init__(self, facts: dict[str, Any], words: Words) -> None:
        self.facts = facts
        self.w = words
        self.parts: list[str] = []

    def add(self, *html: str) -> None:
        self.parts.extend(html)

    def n(self, value: int | None) -> str:
        return self.w("unknown") if value is None else self.w.number(value)

    def when(self, stamp: str | None) -> str:
        return "—" if stamp is None else _e(stamp.replace("T", " "))

    def kinds(self, counts: dict[str, int]) -> str:
        if not counts:
            return _e(self.w("nothing_found"))
        return ", ".join(f"{_e(self.w(f'kind.{k}'))}: {self.n(v)}" for k, v in counts.items())


def _header(page: _Page) -> None:
    f, w = page.facts, page.w
    meta = f["report"]
    period = f["period"]
    page.add(
        f"<h1>{_e(w('title'))} — {_e(meta['server'])}</h1>",
        '<p class="note">',
        f"{_e(w('generated'))}: {page.when(meta['generated'])} · ",
        f"{_e(w('origin'))}: {_e(w('origin.' + meta['origin']))} · sentinel {_e(meta['sentinel'])}",
        "</p>",
        f"<p><b>{_e(w('period'))}:</b> ",
        (f"{page.when(period['start'])} — {page.when(period['end'])}" if period else _e(w("none"))),
        "</p>",
    )
    incidents = f["incidents"]
    critical = sum(1 for i in incidents if i["severity"] == "critical")
    ongoing = sum(1 for i in incidents if i["ongoing"] != "no")
    boxes = [
        (len(incidents), w("glance.incidents")),
        (critical, w("glance.critical")),
        (ongoing, w("glance.ongoing")),
        (f["exposed"]["records"], w("glance.records")),
        (f["exposed"]["people"], w("glance.people")),
        (len(f["blind_spots"]), w("glance.blind")),
    ]
    reachable = f["art33"]["records"]["reachable"]
    if reachable is not None:
        boxes.insert(5, (reachable, w("glance.reachable")))
    page.add(f'<h2 id="glance">{_e(w("glance"))}</h2><div class="glance">')
    for value, label in boxes:
        page.add(f"<div><b>{page.n(value)}</b>{_e(label)}</div>")
    page.add("</div>")


def _coverage(page: _Page, figure: str | None) -> None:
    f, w = page.facts, page.w
    page.add(f'<h2 id="coverage">{_e(w("coverage"))}</h2>')
    if f["report"]["origin"] == "store":
        page.add(f'<p class="note">{_e(w("coverage.store"))}</p>')
    if f["coverage"]:
        heads = ("coverage.source", "coverage.files", "coverage.from", "coverage.to")
        page.add("<table><tr>", *(f"<th>{_e(w(h))}</th>" for h in heads))
        page.add(f"<th>{_e(w('coverage.lines'))}</th><th>{_e(w('coverage.unparsed'))}</th></tr>")
        for c in f["coverage"]:
            share = f"{100 * c['not_understood_share']:.1f} %"
            files = "<br>".join(f"<code>{_e(name)}</code>" for name in c["files"])
            page.add(
                f"<tr><td>{_e(c['source'])}</td><td>{files}</td>",
                f"<td>{page.when(c['first'])}</td><td>{page.when(c['last'])}</td>",
                f'<td class="n">{page.n(c["lines"])}</td>',
                f'<td class="n">{page.n(c["not_understood"])} ({share})</td></tr>',
            )
        page.add("</table>")
    page.add(f'<h3 id="blind">{_e(w("blind"))}</h3><p class="note">{_e(w("blind.rule"))}</p>')
    if not f["blind_spots"]:
        page.add(f"<p>{_e(w('blind.none'))}</p>")
    else:
        page.add("<ul>")
        for s in f["blind_spots"]:
            page.add(
                f"<li><b>{_e(s['source'])}</b>: {page.when(s['start'])} — {page.when(s['end'])}"
                f" ({page.n(s['hours'])} {_e(w('blind.hours'))})</li>"
            )
        page.add("</ul>")
    page.add(f'<h2 id="timeline">{_e(w("timeline"))}</h2>')
    if figure is None:
        page.add(f'<p class="note">{_e(w("timeline.missing"))}</p>')
    else:
        page.add(f'<div class="figure" id="timeline-figure">{figure}</div>')


def _files_table(page: _Page, exposure: dict[str, Any]) -> None:
    w = page.w
    files = exposure["files"]
    if not files:
        return
    page.add(
        f"<table><tr><th>{_e(w('file'))}</th><th>{_e(w('state'))}</th>",
        f"<th>{_e(w('identifiers'))}</th><th>{_e(w('encrypted'))}</th>",
        f"<th>{_e(w('records'))}</th></tr>",
    )
    for item in files[:MAX_FILES_SHOWN]:
        present = item["state"] == "present"
        if present and "not_read" in item:
            found = _e(w("not_read"))
        else:
            found = page.kinds(item.get("identifiers", {})) if present else ""
        encrypted = _e(w("ongoing.yes") if item.get("encrypted") else w("ongoing.no"))
        page.add(
            f"<tr><td><code>{_e(item['path'])}</code></td>",
            f"<td>{_e(w('state.' + item['state']))}</td><td>{found}</td>",
            f"<td>{encrypted if present else ''}</td>",
            f'<td class="n">{page.n(item["records"]) if present else ""}</td></tr>',
        )
    page.add("</table>")
    if len(files) > MAX_FILES_SHOWN:
        page.add(
            f"<p class='note'>{page.n(len(files) - MAX_FILES_SHOWN)} {_e(w('files.more'))}</p>"
        )


def _totals(page: _Page, exposure: dict[str, Any]) -> str:
    w = page.w
    prefix = f"{w('at_least')} " if exposure["lower_bound"] else ""
    return (
        f"<b>{_e(w('records'))}:</b> {_e(prefix)}{page.n(exposure['records'])} · "
        f"<b>{_e(w('people'))}:</b> {_e(prefix)}{page.n(exposure['people'])}"
    )


def _incident(page: _Page, i: dict[str, Any]) -> None:
    w = page.w
    sev = i["severity"]
    page.add(
        f'<div class="incident {_e(sev)}">',
        f'<h3><span class="sev-{_e(sev)}">{_e(w("severity." + sev).upper())}</span> ',
        f"{_e(w.rule(i['rule']))} <span class='note'>({_e(i['rule'])})</span></h3>",
        f"<p>{_e(i['summary'])}</p><table>",
    )
    files_total = i["files_total"]
    moved = []
    if files_total is not None:
        moved.append(f"{page.n(files_total)} {_e(w('files_word'))}")
    if i["bytes"] is not None:
        moved.append(f"{page.n(i['bytes'])} B")
    rows = [
        (w("who"), ", ".join(_e(u) for u in i["users"]) or "—"),
        (w("where"), ", ".join(_e(a) for a in i["ips"]) or "—"),
        (w("when"), f"{page.when(i['first_seen'])} — {page.when(i['last_seen'])}"),
        (w("duration"), _e(w.duration(i["duration_seconds"]))),
        (w("events"), page.n(i["count"])),
        (w("transferred"), " · ".join(moved) or "—"),
        (w("ongoing"), _e(w("ongoing." + i["ongoing"]))),
    ]
    if i["status"] is not None:
        rows.append((w("status"), _e(i["status"])))
    if "path" in i:
        rows.append((w("file"), f"<code>{_e(i['path'])}</code>"))
    for label, value in rows:
        page.add(f"<tr><th>{_e(label)}</th><td>{value}</td></tr>")
    page.add("</table>")
    transferred = i["transferred"]
    if transferred is not None and transferred["files"]:
        if files_total is None:
            page.add(f"<p class='note'>{_e(w('files.some'))}</p>")
        _files_table(page, transferred)
        page.add(f"<p>{_totals(page, transferred)}</p>")
    page.add("</div>")


def _incidents(page: _Page) -> None:
    f, w = page.facts, page.w
    page.add(f'<h2 id="incidents">{_e(w("incidents"))}</h2>')
    if not f["incidents"]:
        page.add(f"<p>{_e(w('incidents.none'))}</p>")
    for incident in f["incidents"][:MAX_INCIDENTS_SHOWN]:
        _incident(page, incident)
    extra = len(f["incidents"]) - MAX_INCIDENTS_SHOWN
    if extra > 0:
        page.add(f"<p class='note'>+{page.n(extra)} (--format json)</p>")


def _exposed(page: _Page) -> None:
    f, w = page.facts, page.w
    page.add(f'<h2 id="exposed">{_e(w("exposed"))}</h2>')
    page.add(f"<p>{_e(w('exposed.intro'))}</p><p class='note'>{_e(w('exposed.method'))}</p>")
    _files_table(page, f["exposed"])
    page.add(f"<p>{_totals(page, f['exposed'])}</p>")
    reaching = any(i["reaches_anonymous_zones"] for i in f["incidents"])
    if reaching and f["anonymous_zones"]:
        page.add(f"<h3>{_e(w('reachable'))}</h3><p>{_e(w('reachable.intro'))}</p>")
        for zone in f["anonymous_zones"]:
            page.add(f"<p><code>{_e(zone['served_as'])}</code></p>")
            _files_table(page, zone)
            page.add(f"<p>{_totals(page, zone)}</p>")


def _art33(page: _Page) -> None:
    f, w = page.facts, page.w
    a = f["art33"]
    prefix = f"{w('at_least')} " if a["lower_bound"] else ""
    page.add(
        f'<section class="art33" id="art33"><h2>{_e(w("art33"))}</h2>',
        f"<p class='note'>{_e(w('art33.intro'))}</p><h3>{_e(w('art33.a'))}</h3><table>",
    )
    nature = ", ".join(
        f"{_e(w.rule(rule))} ({page.n(count)})"
        for rule, count in a["nature"]["incidents_by_rule"].items()
    )
    categories = ", ".join(_e(w(f"kind.{k}")) for k in a["categories_of_data"])

    def amounts(key: str) -> str:
        values = a[key]
        text = f"{_e(prefix)}{page.n(values['transferred'])} {_e(w('art33.transferred'))}"
        if values["reachable"] is not None:
            text += f"; {_e(w('art33.up_to'))}: {page.n(values['reachable'])}"
        return text

    period = a["period"]
    rows = [
        (w("art33.nature"), nature or _e(w("incidents.none"))),
        (w("art33.categories"), categories or _e(w("art33.no_data"))),
        (w("art33.subject_kinds"), f"<i>{_e(w('art33.to_write'))}</i>"),
        (w("art33.subjects"), amounts("data_subjects")),
        (w("art33.records"), amounts("records")),
        (w("art33.period"), f"{page.when(period['start'])} — {page.when(period['end'])}"),
    ]
    for label, value in rows:
        page.add(f"<tr><th>{_e(label)}</th><td>{value}</td></tr>")
    page.add("</table>")
    for key in ("art33.b", "art33.c", "art33.d"):
        page.add(f"<h3>{_e(w(key))}</h3><div class='write'>{_e(w('art33.to_write'))}</div>")
    page.add("</section>")


def render_html(facts: dict[str, Any], words: Words, figure: str | None) -> str:
    page = _Page(facts, words)
    _header(page)
    _coverage(page, figure)
    _incidents(page)
    _exposed(page)
    _art33(page)
    title = f"{words('title')} — {facts['report']['server']}"
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(words.lang)}"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(page.parts)
        + "\n</body></html>\n"
    )
