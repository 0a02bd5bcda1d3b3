"""A Markdown report as one self-contained HTML file: tables rendered, images inlined.

Images referenced by relative paths (``![alt](../q1/learning_curves.png)``) are read from
disk and embedded as ``data:`` URIs, so the HTML file can be mailed or opened anywhere. LaTeX
stays as written: no script is fetched from the web to typeset it.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import markdown

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; }
code { background: #f6f6f6; padding: 0 0.2rem; }
"""


def inline_images(body: str, base_dir: Path) -> str:
    """Replace ``src="relative.png"`` by the image's bytes as a data URI."""

    def embed(match: re.Match) -> str:
        source = html.unescape(match.group(1))
        if source.startswith(("data:", "http:", "https:")):
            return match.group(0)
        data = base64.b64encode((base_dir / source).read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    return re.sub(r'src="([^"]+)"', embed, body)


def markdown_to_html(text: str, base_dir: Path, title: str) -> str:
    body = markdown.markdown(text, extensions=["tables", "fenced_code"])
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        f"{inline_images(body, base_dir)}\n</body></html>\n"
    )
