"""Benchmark of ``gradx graph --save``: laying out and drawing a graph of about 1000 nodes.

Run it with the project's Python:  python bench/graph_picture_bench.py [--layers 143] [--repeat 3]

A deep MLP (``--layers`` Linear+Tanh layers, 7 grad_fn nodes each: addmm, two views, the
transposed weight, two AccumulateGrad, tanh) is traced in this process; it times (median of
--repeat):
  * the picture: each box's text and the layered layout (crossing reduction included);
  * the SVG text (standard library only);
  * the PNG through matplotlib (once: it is the slow one).
It prints the sizes too: boxes, edges, crossings left, the picture's size in px, the files' sizes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

MLP = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Deep(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            layers = []
            for _ in range({layers}):
                layers += [nn.Linear(3, 3), nn.Tanh()]
            self.net = nn.Sequential(*layers)

        def forward(self, x):
            return self.net(x).sum()
    """
)


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layers", type=int, default=143)  # 7 nodes each: ~1000 nodes
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from gradx.commands.graph.layout import layered_layout
    from gradx.commands.graph.picture import graph_picture
    from gradx.commands.graph.sources import script_graph
    from gradx.render.graph_picture import save_picture, svg_text

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deep.py"
        path.write_text(MLP.format(layers=args.layers), encoding="utf-8")
        graph = script_graph(f"{path}::Deep", ["x=1,2,3"])
        picture = graph_picture(graph)
        layout_ms = median_ms(lambda: graph_picture(graph), args.repeat)
        svg_ms = median_ms(lambda: svg_text(picture), args.repeat)
        svg = Path(folder) / "deep.svg"
        png = Path(folder) / "deep.png"
        save_picture(picture, svg)
        start = time.perf_counter()
        save_picture(picture, png)
        png_ms = (time.perf_counter() - start) * 1000
        sizes = [(b.width, b.height) for b in picture.boxes]
        index = {b.key: k for k, b in enumerate(picture.boxes)}
        edges = [(index[e.source], index[e.target]) for e in picture.edges]
        crossings = layered_layout(sizes, edges).crossings
        svg_kib, png_kib = svg.stat().st_size / 1024, png.stat().st_size / 1024

    print(f"{args.layers}-layer MLP: {len(graph.nodes)} nodes, {len(graph.leaves)} leaves")
    print(f"  boxes {len(picture.boxes)}, edges {len(picture.edges)}, crossings left {crossings}")
    print(f"  picture {picture.width:.0f} x {picture.height:.0f} px")
    print(f"  text + layout:         {layout_ms:9.1f} ms")
    print(f"  SVG text:              {svg_ms:9.1f} ms   ({svg_kib:.0f} KiB)")
    print(f"  PNG (matplotlib):      {png_ms:9.1f} ms   ({png_kib:.0f} KiB)")


if __name__ == "__main__":
    main()
