"""A report as a list of blocks, written three ways: `report.md`, a self-contained `report.html`
(figures embedded as data URIs, so it opens from disk or travels as one file), and the raw
material beside them (`tables/*.csv`, `figures/*.png`).
"""

from __future__ import annotations

import base64
import html
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from .glossary import header

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.5em auto; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #444; margin-top: 0; } h2 { border-bottom: 1px solid #bbb; margin-top: 2em; }
section.verdict { background: #e3f1e5; border-left: 6px solid #2e7d32; padding: 0.3em 1em 0.6em; margin: 0.5em 0 1.5em; }
section.verdict h2 { border: none; margin: 0.4em 0; } section.verdict li { margin: 0.3em 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; overflow-wrap: anywhere; } th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; } img.pixels { image-rendering: pixelated; min-width: 320px; }
.note { background: #fff8e0; border-left: 4px solid #e0b000; padding: 0.4em 0.8em; }
dl dt { font-weight: 600; } dl dd { margin: 0 0 0.4em 1.5em; }
"""


REPORT_ENTRIES = {"report.md", "report.html", "tables", "figures"}


def check_out_dir(out: str | Path) -> None:
    """A report may replace an earlier report in `out`, never anything else that lives there."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; nothing was overwritten")
    foreign = sorted(p.name for p in out.iterdir() if p.name not in REPORT_ENTRIES) if out.is_dir() else []
    if foreign:
        raise ValueError(f"--out {out} holds other files ({', '.join(foreign[:5])}); choose an empty or new folder, nothing was overwritten")


def _format(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4g}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_format(v).replace("|", "/") for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


@dataclass
class Block:
    kind: str  # verdict, heading, text, note, table, figure, definitions
    content: object
    caption: str = ""
    level: int = 2
    name: str = ""


@dataclass
class Report:
    """Collects blocks; `write(out)` renders them. Names of tables and figures become file names."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    _figures: dict[str, Path | Figure] = field(default_factory=dict)
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def verdicts(self) -> list[str]:
        """The answer's sentences, in order: what `study report` and `study compare` print."""
        return [line for block in self.blocks if block.kind == "verdict" for line in block.content]

    def verdict(self, heading: str, sentences: list[str]) -> None:
        """The answer, first on the page: a boxed list of plain sentences."""
        self.blocks.append(Block("verdict", list(sentences), caption=heading))

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(Block("heading", text, level=level))

    def text(self, text: str) -> None:
        self.blocks.append(Block("text", text))

    def note(self, text: str) -> None:
        self.blocks.append(Block("note", text))

    def definitions(self, terms: dict[str, str]) -> None:
        self.blocks.append(Block("definitions", dict(terms)))

    def table(self, name: str, frame: pd.DataFrame, caption: str = "", show_rows: int = 40) -> None:
        """Shown (its first `show_rows` rows; 0: only named) and saved whole as tables/<name>.csv."""
        self._tables[name] = frame
        if show_rows == 0:
            self.text(f"{caption[:1].upper() + caption[1:]}: {len(frame)} rows in tables/{name}.csv.")
        else:
            self.blocks.append(Block("table", frame.head(show_rows), caption=caption, name=name))

    def figure(self, name: str, figure: Figure | Path | bytes, caption: str = "", pixels: bool = False) -> None:
        """A matplotlib figure (saved as figures/<name>.png), an existing PNG (copied there) or PNG bytes."""
        self._figures[name] = figure
        self.blocks.append(Block("figure", pixels, caption=caption, name=name))

    def write(self, out: str | Path) -> dict[str, Path | list[str]]:
        out = Path(out)
        (out / "tables").mkdir(parents=True, exist_ok=True)
        (out / "figures").mkdir(parents=True, exist_ok=True)
        for name, frame in self._tables.items():
            frame.to_csv(out / "tables" / f"{name}.csv", index=False)
        for name, figure in self._figures.items():
            target = out / "figures" / f"{name}.png"
            if isinstance(figure, Figure):
                figure.savefig(target, dpi=110)
                plt.close(figure)
            elif isinstance(figure, bytes):
                target.write_bytes(figure)
            else:
                shutil.copyfile(figure, target)
        (out / "report.md").write_text(self._markdown())
        (out / "report.html").write_text(self._html(out))
        return {"markdown": out / "report.md", "html": out / "report.html", "tables": out / "tables", "figures": out / "figures",
                "verdicts": self.verdicts}

    def _markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for block in self.blocks:
            if block.kind == "verdict":
                lines += [f"## {block.caption}", ""] + [f"- **{s}**" for s in block.content] + [""]
            elif block.kind == "heading":
                lines += ["#" * block.level + " " + str(block.content), ""]
            elif block.kind == "text":
                lines += [str(block.content), ""]
            elif block.kind == "note":
                lines += ["> " + str(block.content), ""]
            elif block.kind == "definitions":
                lines += [f"- **{term}**: {meaning}" for term, meaning in block.content.items()] + [""]
            elif block.kind == "table":
                if block.caption:
                    lines += [f"*{block.caption}* (`tables/{block.name}.csv`)", ""]
                lines += [markdown_table(block.content.rename(columns=header)), ""]
            elif block.kind == "figure":
                lines += [f"![{block.caption or block.name}](figures/{block.name}.png)", ""]
                if block.caption:
                    lines += [f"*{block.caption}*", ""]
        return "\n".join(lines)

    def _html(self, out: Path) -> str:
        parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>",
                 f"<style>{STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>"]
        for block in self.blocks:
            if block.kind == "verdict":
                items = "".join(f"<li>{html.escape(s)}</li>" for s in block.content)
                parts.append(f"<section class='verdict'><h2>{html.escape(block.caption)}</h2><ul>{items}</ul></section>")
            elif block.kind == "heading":
                parts.append(f"<h{block.level}>{html.escape(str(block.content))}</h{block.level}>")
            elif block.kind == "text":
                parts.append(f"<p>{html.escape(str(block.content))}</p>")
            elif block.kind == "note":
                parts.append(f"<p class='note'>{html.escape(str(block.content))}</p>")
            elif block.kind == "definitions":
                items = "".join(f"<dt>{html.escape(t)}</dt><dd>{html.escape(m)}</dd>" for t, m in block.content.items())
                parts.append(f"<dl>{items}</dl>")
            elif block.kind == "table":
                caption = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
                shown = block.content.rename(columns=header)
                body = shown.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}", border=0)
                parts.append(body.replace("<thead>", f"{caption}<thead>", 1))
            elif block.kind == "figure":
                data = base64.b64encode((out / "figures" / f"{block.name}.png").read_bytes()).decode("ascii")
                css = " class='pixels'" if block.content else ""
                caption = f"<figcaption>{html.escape(block.caption)}</figcaption>" if block.caption else ""
                parts.append(f"<figure><img{css} alt='{html.escape(block.name)}' src='data:image/png;base64,{data}'>{caption}</figure>")
        parts.append("</body></html>")
        return "\n".join(parts)
