"""The font that draws Chinese labels on matplotlib figures (maps, reports)."""

from __future__ import annotations

from matplotlib import font_manager

# Fonts with Chinese glyphs, in order of preference (`fc-list :lang=zh`).
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC")


def cjk_font() -> str:
    """The first installed font of ``CJK_FONTS``; ValueError when none is."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    raise ValueError(f"no Chinese font installed (one of {', '.join(CJK_FONTS)})")
