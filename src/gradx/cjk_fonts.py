"""Which installed font can draw Chinese in a matplotlib picture (``gradx eval --save`` and
``gradx graph --save``): matplotlib is imported only when asked, and a missing matplotlib means
no such font."""

from __future__ import annotations

from importlib.util import find_spec

# Fonts with Chinese glyphs, as Linux (Noto, Source Han, WenQuanYi), macOS and Windows name them.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "PingFang SC",
    "Heiti SC",
    "Microsoft YaHei",
    "SimHei",
    "Noto Sans CJK JP",
    "AR PL UMing CN",
)


def cjk_font() -> str | None:
    """The name of an installed font with Chinese glyphs that matplotlib can use, if any."""
    if find_spec("matplotlib") is None:
        return None
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)
