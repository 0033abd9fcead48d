"""The report as Markdown, for a ticket: the same facts as the HTML, without the picture."""

from __future__ import annotations

from typing import Any

from sentinel.report.words import Words

MAX_INCIDENTS_SHOWN = 200
MAX_FILES_SHOWN = 20


def _md(value: object) -> str:
    """Text that cannot break a table or start markup: pipes, backticks, brackets escaped."""
    text = str(value).replace("\\", "\\\\")
    for char in "|`*_[]<>#":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def _code(value: object) -> str:
    """A path or name as a code span: nothing in it is markup (a pipe still ends a cell)."""
    text = str(value).replace("`", "'").replace("|", "\\|").replace("\n", " ")
    return f"`{text}`"


def _when(stamp: str | None) -> str:
    return "—" if stamp is None else stamp.replace("T", " ")


def _kinds(w: Words, counts: dict[str, int]) -> str:
    if not counts:
        return w("nothing_found")
    return ", ".join(f"{w(f'kind.{k}')}: {w.number(v)}" for k, v in counts.items())


def _files(w: Words, exposure: dict[str, Any], out: list[str]) -> None:
    files = exposure["files"]
    if not files:
        return
    out += [
        f"| {w('file')} | {w('state')} | {w('identifiers')} | {w('encrypted')} | {w('records')} |",
        "|---|---|---|---|---:|",
    ]
    for item in files[:MAX_FILES_SHOWN]:
        present = item["state"] == "present"
        found = _kinds(w, item.get("identifiers", {})) if present else ""
        if present and "not_read" in item:
            found = w("not_read")
        encrypted = (
            (w("ongoing.yes") if item.get("encrypted") else w("ongoing.no")) if present else ""
        )
        records = w.number(item["records"]) if present else ""
        out.append(
            f"| {_code(item['path'])} | {w('state.' + item['state'])} | {found} | {encrypted} "
            f"| {records} |"
        )
    if len(files) > MAX_FILES_SHOWN:
        out.append(f"\n{w.number(len(files) - MAX_FILES_SHOWN)} {w('files.more')}")
    lead = f"{w('at_least')} " if exposure["lower_bound"] else ""
    out += [
        "",
        f"**{w('records')}:** {lead}{w.number(exposure['records'])} · "
        f"**{w('people')}:** {lead}{w.number(exposure['people'])}",
        "",
    ]


def _incident(w: Words, i: dict[str, Any], out: list[str]) -> None:
    moved = []
    if i["files_total"] is not None:
        moved.append(f"{w.number(i['files_total'])} {w('files_word')}")
    if i["bytes"] is not None:
        moved.append(f"{w.number(i['bytes'])} B")
    out += [
        f"### {w('severity.' + i['severity']).upper()} · {w.rule(i['rule'])} (`{i['rule']}`)",
        "",
        _md(i["summary"]),
        "",
        f"- {w('who')}: {', '.join(_code(u) for u in i['users']) or '—'}",
        f"- {w('where')}: {', '.join(_code(a) for a in i['ips']) or '—'}",
        f"- {w('when')}: {_when(i['first_seen'])} — {_when(i['last_seen'])}",
        f"- {w('duration')}: {w.duration(i['duration_seconds'])}",
        f"- {w('events')}: {w('unknown') if i['count'] is None else w.number(i['count'])}",
        f"- {w('transferred')}: {' · '.join(moved) or '—'}",
        f"- {w('ongoing')}: {w('ongoing.' + i['ongoing'])}",
    ]
    if "path" in i:
        out.append(f"- {w('file')}: {_code(i['path'])}")
    out.append("")
    if i["transferred"] is not None and i["transferred"]["files"]:
        if i["files_total"] is None:
            out += [f"_{w('files.some')}_", ""]
        _files(w, i["transferred"], out)


def _art33(w: Words, f: dict[str, Any], out: list[str]) -> None:
    a = f["art33"]
    lead = f"{w('at_least')} " if a["lower_bound"] else ""

    def amounts(key: str) -> str:
        text = f"{lead}{w.number(a[key]['transferred'])} {w('art33.transferred')}"
        if a[key]["reachable"] is not None:
            text += f"; {w('art33.up_to')}: {w.number(a[key]['reachable'])}"
        return text

    nature = ", ".join(
        f"{w.rule(r)} ({w.number(n)})" for r, n in a["nature"]["incidents_by_rule"].items()
    )
    out += [
        f"## {w('art33')}",
        "",
        f"_{w('art33.intro')}_",
        "",
        f"### {w('art33.a')}",
        "",
        f"- {w('art33.nature')}: {nature or w('incidents.none')}",
        f"- {w('art33.categories')}: "
        + (", ".join(w(f"kind.{k}") for k in a["categories_of_data"]) or w("art33.no_data")),
        f"- {w('art33.subject_kinds')}: _{w('art33.to_write')}_",
        f"- {w('art33.subjects')}: {amounts('data_subjects')}",
        f"- {w('art33.records')}: {amounts('records')}",
        f"- {w('art33.period')}: {_when(a['period']['start'])} — {_when(a['period']['end'])}",
        "",
    ]
    for key in ("art33.b", "art33.c", "art33.d"):
        out += [f"### {w(key)}", "", f"_{w('art33.to_write')}_", ""]


def render_markdown(f: dict[str, Any], w: Words) -> str:
    meta, period = f["report"], f["period"]
    out = [
        f"# {w('title')} — {_md(meta['server'])}",
        "",
        f"{w('generated')}: {_when(meta['generated'])} · {w('origin')}: "
        f"{w('origin.' + meta['origin'])} · sentinel {meta['sentinel']}",
        "",
        f"**{w('period')}:** "
        + (f"{_when(period['start'])} — {_when(period['end'])}" if period else w("none")),
        "",
        f"## {w('coverage')}",
        "",
    ]
    if meta["origin"] == "store":
        out += [w("coverage.store"), ""]
    if f["coverage"]:
        out += [
            f"| {w('coverage.source')} | {w('coverage.from')} | {w('coverage.to')} "
            f"| {w('coverage.lines')} | {w('coverage.unparsed')} |",
            "|---|---|---|---:|---:|",
        ]
        for c in f["coverage"]:
            share = f"{100 * c['not_understood_share']:.1f} %"
            out.append(
                f"| {_md(c['source'])} | {_when(c['first'])} | {_when(c['last'])} "
                f"| {w.number(c['lines'])} | {w.number(c['not_understood'])} ({share}) |"
            )
        out.append("")
    out += [f"### {w('blind')}", "", f"_{w('blind.rule')}_", ""]
    for s in f["blind_spots"]:
        out.append(
            f"- **{_md(s['source'])}**: {_when(s['start'])} — {_when(s['end'])} "
            f"({w.number(s['hours'])} {w('blind.hours')})"
        )
    if not f["blind_spots"]:
        out.append(w("blind.none"))
    out += ["", f"## {w('incidents')}", ""]
    for incident in f["incidents"][:MAX_INCIDENTS_SHOWN]:
        _incident(w, incident, out)
    if not f["incidents"]:
        out += [w("incidents.none"), ""]
    elif len(f["incidents"]) > MAX_INCIDENTS_SHOWN:
        out += [f"+{w.number(len(f['incidents']) - MAX_INCIDENTS_SHOWN)} (--format json)", ""]
    out += [f"## {w('exposed')}", "", w("exposed.intro"), "", f"_{w('exposed.method')}_", ""]
    _files(w, f["exposed"], out)
    if any(i["reaches_anonymous_zones"] for i in f["incidents"]):
        for zone in f["anonymous_zones"]:
            out += [
                f"### {w('reachable')}: {_code(zone['served_as'])}",
                "",
                w("reachable.intro"),
                "",
            ]
            _files(w, zone, out)
    _art33(w, f, out)
    return "\n".join(out) + "\n"
