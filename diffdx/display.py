"""Text and HTML rendering of result objects (formatting lives here, never in the data)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from diffdx.ranking import Ranking

__all__ = ["ranking_html", "ranking_text"]

_LEVEL_COLOURS = {
    "emergency": "#b71c1c",
    "urgent": "#e65100",
    "routine": "#1565c0",
    "self_care": "#2e7d32",
}


def _pct(p: float) -> str:
    return f"{p:.1%}" if p >= 0.001 else f"{p:.2g}"


def ranking_text(r: Ranking) -> str:
    """Plain-text rendering of a :class:`~diffdx.ranking.Ranking` (no memory addresses)."""
    m = r.model
    lines = [
        f"Ranked differential (model {m['name']} v{m['version']}, {m['hash'][:12]})",
        f"Triage: {r.triage.upper()}",
        *(f"  - {reason}" for reason in r.triage_reasons),
        "",
        f"{'rank':>4}  {'cause':<40} {'urgency':<9} {'prior':>7} {'posterior':>9} {'lift':>7}",
    ]
    for rank, row in r.frame.iterrows():
        mark = "!" if row.flagged else " "
        lines.append(
            f"{rank:>4}{mark} {row.cause:<40} {row.urgency:<9} {_pct(row.prior):>7} "
            f"{_pct(row.posterior):>9} {row.lift:>7.2f}"
        )
    n = len(r.evidence)
    shown = ", ".join(f"{k}={v}" for k, v in list(r.evidence.items())[:8])
    lines += [
        "",
        "! = urgent cause at or above its action threshold",
        f"Evidence ({n} observed): {shown}{', ...' if n > 8 else ''}" if n else "Evidence: none",
        r.disclaimer,
    ]
    return "\n".join(lines)


def ranking_html(r: Ranking) -> str:
    """HTML rendering for notebooks: triage banner, ranked table with posterior bars."""
    m = r.model
    colour = _LEVEL_COLOURS.get(r.triage, "#555")
    reasons = "".join(f"<li>{html.escape(x)}</li>" for x in r.triage_reasons)
    rows = []
    for rank, row in r.frame.iterrows():
        width = max(0.0, min(100.0, 100.0 * row.posterior))
        bar = (
            f'<div style="background:#ddd;width:120px;height:10px;display:inline-block">'
            f'<div style="background:{_LEVEL_COLOURS.get(row.urgency, "#555")};'
            f'width:{width:.1f}%;height:10px"></div></div>'
        )
        style = ' style="font-weight:bold;background:#fff3e0"' if row.flagged else ""
        why = html.escape(r.reasons(row.cause)) if len(r.contributions) else ""
        rows.append(
            f"<tr{style}><td>{rank}</td><td title='{html.escape(row.cause)}'>"
            f"{html.escape(row.label)}</td><td>{row.urgency}</td><td>{_pct(row.prior)}</td>"
            f"<td>{bar} {_pct(row.posterior)}</td><td>{row.lift:.2f}</td>"
            f"<td><small>{why}</small></td></tr>"
        )
    header = (
        "<tr><th>#</th><th>cause</th><th>urgency</th><th>prior</th><th>posterior</th>"
        "<th>lift</th><th>strongest reasons (log-odds)</th></tr>"
    )
    return (
        f"<div><div style='border-left:6px solid {colour};padding:4px 8px'>"
        f"<b style='color:{colour}'>Triage: {r.triage.upper()}</b><ul>{reasons}</ul></div>"
        f"<table>{header}{''.join(rows)}</table>"
        f"<p><small>Model {html.escape(m['name'])} v{html.escape(m['version'])} "
        f"({m['hash'][:12]}); {len(r.evidence)} observed variables. "
        f"<b>{html.escape(r.disclaimer)}</b></small></p></div>"
    )
