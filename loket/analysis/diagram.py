"""The route as an SVG swimlane diagram, drawn without any external program.

Layout: one horizontal lane per counter (grouped by agency, public counters shaded); the
top lane carries the route's own markers (start, fork, join, finish). Columns are the
longest distance from the start, so parallel branches share a column and sit side by side
in their lanes. Conditional steps have a dashed border and show their condition; steps the
applicant attends carry a marker; rework loops (edges going back) are dotted.

Its words are Bahasa Indonesia by default (the public permit page), English on request;
a condition is shown by its label (the CEL is on the page, under "rumus").
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from loket.analysis.report import agency_short, counter_key
from loket.route.graph import build_graph
from loket.route.model import AgencyCatalog, ParallelStep, PermitType, Target, TaskStep

BOX_W, BOX_H = 168, 88  # room for five lines: name (2), time, condition (2)
COL_W = 210
LANE_LABEL_W = 190
PAD = 14
ROUTE_LANE = "route"
_FONT = "font-family='DejaVu Sans, Arial, sans-serif'"

# The diagram's own words; outcomes other than approve are the route's identifiers.
WORDS: dict[str, dict[str, str]] = {
    "id": {
        "route": "Alur",
        "route_sub": "mulai, cabang paralel, gabung, selesai",
        "public": " (loket layanan)",
        "start": "mulai",
        "finish": "selesai",
        "join": " (gabung)",
        "paused": "waktu berhenti",
        "if": "jika",
        "also": "juga",
        "days": "hari kerja",
        "hours": "jam kerja",
        "visit": "pemohon datang ke loket ini",
        "legend": "garis putus-putus: tahap bersyarat · ● pemohon datang · panah titik-titik: "
        "pengerjaan ulang · hasil 'dikembalikan' dan 'ditolak' tertulis di kotak",
        "return": "dikembalikan",
        "reject": "ditolak",
        "unpaid": "tidak dibayar",
        "rework": "pengerjaan ulang",
    },
    "en": {
        "route": "Route",
        "route_sub": "start, parallel fork, join, finish",
        "public": " (public)",
        "start": "start",
        "finish": "finish",
        "join": " (join)",
        "paused": "clock paused",
        "if": "if",
        "also": "also",
        "days": "working days",
        "hours": "working hours",
        "visit": "the applicant comes to this counter",
        "legend": "dashed border: conditional step · ● applicant visits · dotted arrow: rework "
        "loop · outcomes 'return' and 'reject' are listed in each box",
        "return": "return",
        "reject": "reject",
        "unpaid": "not paid",
        "rework": "rework",
    },
}


def _word(words: dict[str, str], key: str) -> str:
    return words.get(key, key.replace("_", " "))


@dataclass
class _Node:
    id: str
    kind: str  # task, fork, join, start, finish
    lane: str
    column: int = 0
    slot: int = 0
    x: float = 0.0
    y: float = 0.0
    w: float = BOX_W
    h: float = BOX_H


def _edges(permit: PermitType) -> tuple[list[str], list[tuple[str, str, str]]]:
    graph = build_graph(permit)
    nodes = ["start"]
    edges: list[tuple[str, str, str]] = [("start", graph.first, "")]
    for step in permit.steps:
        if step.id not in graph.scope:
            continue
        nodes.append(step.id)
        if isinstance(step, ParallelStep):
            nodes.append(f"join:{step.id}")
            edges += [(step.id, entry, "") for entry in step.parallel]
            edges.append((f"join:{step.id}", step.then, ""))
            continue
        for outcome, target in step.outcomes.items():
            label = "" if outcome == "approve" else outcome
            if target == Target.JOIN:
                scope = graph.scope[step.id]
                edges.append((step.id, f"join:{scope[-1][0]}", label))
            elif target == Target.FINISH:
                edges.append((step.id, "finish", label))
            elif target not in (Target.APPLICANT, Target.REJECT):
                edges.append((step.id, target, label))
    nodes.append("finish")
    return nodes, [(a, b, lab) for a, b, lab in edges if b in nodes or b in graph.scope]


def _back_edges(nodes: list[str], edges: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b, _ in edges:
        out.setdefault(a, []).append(b)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in out.get(node, []):
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                visit(nxt)
        state[node] = 2

    visit("start")
    return back


def render_svg(permit: PermitType, agencies: AgencyCatalog, lang: str = "id") -> str:
    words = WORDS.get(lang, WORDS["id"])
    graph = build_graph(permit)
    names, edges = _edges(permit)
    back = _back_edges(names, edges)
    forward = [(a, b) for a, b, _ in edges if (a, b) not in back]

    # Longest path from the start over forward edges (a DAG once back edges are out).
    column: dict[str, int] = {"start": 0}
    for _ in range(len(names)):
        changed = False
        for a, b in forward:
            if a in column and column.get(b, -1) < column[a] + 1:
                column[b] = column[a] + 1
                changed = True
        if not changed:
            break

    lanes: list[str] = []
    nodes: dict[str, _Node] = {}
    for name in sorted(names, key=lambda n: column.get(n, 0)):
        step = graph.steps.get(name)
        if isinstance(step, TaskStep):
            lane = counter_key(step)
            if lane not in lanes:
                lanes.append(lane)
            nodes[name] = _Node(name, "task", lane)
        else:
            kind = "fork" if isinstance(step, ParallelStep) else name.split(":")[0]
            nodes[name] = _Node(name, kind, ROUTE_LANE, w=34, h=34)
    agency_order = list(dict.fromkeys(lane.split("/")[0] for lane in lanes))
    lanes.sort(key=lambda lane: agency_order.index(lane.split("/")[0]))
    lanes.insert(0, ROUTE_LANE)

    slots: dict[tuple[str, int], int] = {}
    for node in nodes.values():
        node.column = column.get(node.id, 0)
        node.slot = slots.get((node.lane, node.column), 0)
        slots[(node.lane, node.column)] = node.slot + 1
    lane_rows = {
        lane: max([1] + [n for (ln, _), n in slots.items() if ln == lane]) for lane in lanes
    }
    lane_top: dict[str, float] = {}
    y = 40.0
    for lane in lanes:
        lane_top[lane] = y
        y += lane_rows[lane] * (BOX_H + PAD) + PAD
    height = y + 20
    columns = max(column.values(), default=0) + 1
    width = LANE_LABEL_W + columns * COL_W + PAD

    for node in nodes.values():
        cx = LANE_LABEL_W + node.column * COL_W + COL_W / 2
        cy = lane_top[node.lane] + PAD + node.slot * (BOX_H + PAD) + BOX_H / 2
        node.x, node.y = cx - node.w / 2, cy - node.h / 2

    counters = {(a.id, c.id): (a, c) for a in agencies.agencies for c in a.counters}
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
        f"viewBox='0 0 {width:.0f} {height:.0f}' {_FONT} font-size='11'>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto-start-reverse'><path d='M0,0L10,5L0,10z' fill='#444'/>"
        "</marker></defs>",
        f"<text x='{PAD}' y='24' font-size='15' font-weight='bold'>"
        f"{escape(permit.name)} ({escape(permit.id)}, v{permit.version})</text>",
    ]
    for lane in lanes:
        top = lane_top[lane]
        h = lane_rows[lane] * (BOX_H + PAD) + PAD
        if lane == ROUTE_LANE:
            fill, title, sub = "#f4f4f4", words["route"], words["route_sub"]
        else:
            agency_id, counter_id = lane.split("/")
            found = counters.get((agency_id, counter_id))
            public = bool(found and found[1].public)
            fill = "#fff6d5" if public else "#ffffff"
            title = agency_short(agencies, agency_id)
            sub = (found[1].name if found else counter_id) + (words["public"] if public else "")
        out.append(
            f"<rect x='0' y='{top:.0f}' width='{width:.0f}' height='{h:.0f}' fill='{fill}' "
            "stroke='#bbb'/>"
        )
        out.append(f"<text x='{PAD}' y='{top + 22:.0f}' font-weight='bold'>{escape(title)}</text>")
        for i, line in enumerate(_wrap(sub, 28)[:3]):
            out.append(f"<text x='{PAD}' y='{top + 38 + 13 * i:.0f}'>{escape(line)}</text>")
        out.append(
            f"<line x1='{LANE_LABEL_W - 6}' y1='{top:.0f}' x2='{LANE_LABEL_W - 6}' "
            f"y2='{top + h:.0f}' stroke='#bbb'/>"
        )

    for a, b, label in edges:
        if a not in nodes or b not in nodes:
            continue
        out.append(_edge(nodes[a], nodes[b], _word(words, label) if label else "", (a, b) in back))
    for node in nodes.values():
        step = graph.steps.get(node.id)
        fork = graph.steps.get(node.id.split(":", 1)[-1])
        caption = _clip(fork.name, 28) if isinstance(fork, ParallelStep) else node.id
        out.append(
            _node_svg(node, step if isinstance(step, TaskStep) else None, words, lang, caption)
        )
    out.append(f"<text x='{PAD}' y='{height - 6:.0f}' fill='#555'>{escape(words['legend'])}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


def _edge(a: _Node, b: _Node, label: str, back: bool) -> str:
    x1, y1 = a.x + a.w, a.y + a.h / 2
    x2, y2 = b.x, b.y + b.h / 2
    style = "stroke='#444' fill='none' marker-end='url(#arrow)'"
    if back:
        # Rework goes backwards: loop below the boxes so it does not cross them.
        low = max(a.y + a.h, b.y + b.h) + 8
        path = (
            f"M{a.x + a.w / 2:.0f},{a.y + a.h:.0f} V{low:.0f} H{b.x + b.w / 2:.0f} V{b.y + b.h:.0f}"
        )
        text_x, text_y = (a.x + b.x + b.w) / 2, low + 11
        style += " stroke-dasharray='2,3'"
    else:
        mid = x2 - 18 if x2 - 18 > x1 else (x1 + x2) / 2
        path = f"M{x1:.0f},{y1:.0f} H{mid:.0f} V{y2:.0f} H{x2:.0f}"
        text_x, text_y = mid + 3, (y1 + y2) / 2 - 3 if y1 != y2 else y1 - 4
    svg = f"<path d='{path}' {style}/>"
    if label:
        svg += f"<text x='{text_x:.0f}' y='{text_y:.0f}' fill='#a33' font-size='10'>{escape(label)}</text>"
    return svg


def _duration(step: TaskStep, words: dict[str, str]) -> str:
    d = step.deadline
    return (
        f"{d.working_days} {words['days']}"
        if d.working_days
        else f"{d.working_hours} {words['hours']}"
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _node_svg(
    node: _Node, step: TaskStep | None, words: dict[str, str], lang: str, caption: str
) -> str:
    cx, cy = node.x + node.w / 2, node.y + node.h / 2
    if step is None:
        if node.kind in ("start", "finish"):
            width = 3 if node.kind == "finish" else 1.5
            return (
                f"<circle cx='{cx:.0f}' cy='{cy:.0f}' r='15' fill='#fff' stroke='#222' "
                f"stroke-width='{width}'/><text x='{cx:.0f}' y='{cy + 30:.0f}' "
                f"text-anchor='middle'>{escape(words[node.kind])}</text>"
            )
        sign = "+" if node.kind in ("fork", "join") else "?"
        caption += words["join"] if node.kind == "join" else ""
        return (
            f"<path d='M{cx:.0f},{node.y:.0f} L{node.x + node.w:.0f},{cy:.0f} "
            f"L{cx:.0f},{node.y + node.h:.0f} L{node.x:.0f},{cy:.0f} Z' fill='#fff' "
            f"stroke='#222'/><text x='{cx:.0f}' y='{cy + 5:.0f}' text-anchor='middle' "
            f"font-size='16'>{sign}</text><text x='{cx:.0f}' y='{node.y + node.h + 13:.0f}' "
            f"text-anchor='middle' font-size='10'>{escape(caption)}</text>"
        )
    dashed = " stroke-dasharray='6,4'" if step.when else ""
    fill = "#fde9e9" if step.clock == "paused" else "#e8f1fb"
    name = _wrap(step.name, 26) or [step.id]
    lines = [name[0], _clip(" ".join(name[1:]), 28)] if len(name) > 1 else [name[0]]
    lines.append(
        _duration(step, words) + (f" · {words['paused']}" if step.clock == "paused" else "")
    )
    others = [
        _word(words, o) for o, t in step.outcomes.items() if t in (Target.APPLICANT, Target.REJECT)
    ]
    if step.when:
        # The label people read; an unlabelled draft shows its expression.
        shown = step.when_label.text(lang) if step.when_label is not None else step.when
        cond = _wrap(f"{words['if']} {shown}", 28)
        lines += [cond[0], _clip(" ".join(cond[1:]), 28)] if len(cond) > 1 else cond
    elif others:
        lines.append(f"{words['also']}: " + ", ".join(others))
    svg = [
        f"<g><title>{escape(step.name)}</title>"
        f"<rect x='{node.x:.0f}' y='{node.y:.0f}' width='{node.w:.0f}' height='{node.h:.0f}' "
        f"rx='6' fill='{fill}' stroke='#2a5d8f' stroke-width='1.4'{dashed}/>"
    ]
    for i, line in enumerate(lines):
        weight = " font-weight='bold'" if i < len(name[:2]) else ""
        svg.append(
            f"<text x='{node.x + 8:.0f}' y='{node.y + 16 + 15 * i:.0f}'{weight}>"
            f"{escape(_clip(line, 30))}</text>"
        )
    if step.applicant_visit:
        svg.append(
            f"<circle cx='{node.x + node.w - 10:.0f}' cy='{node.y + node.h - 10:.0f}' r='5' fill='#c0392b'>"
            f"<title>{escape(words['visit'])}</title></circle>"
        )
    svg.append("</g>")
    return "".join(svg)
