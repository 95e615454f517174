"""How the graph that create_graph=True builds grows with the derivative order (gradx graph
--order): graph nodes, tensors saved by each pass and their bytes, and the time of each pass,
for a few expressions and for a 10^5-element input. Run: python bench/graph_orders_bench.py"""

from __future__ import annotations

from gradx.commands.graph.orders import derivative_graphs

CASES = [
    ("x*sin(x)", ("x=1",)),
    ("exp(-x^2)*sin(3*x)", ("x=0.5",)),
    ("tanh(x)", ("x=0.5",)),
    ("gelu(x)", ("x=0.5",)),
]


def main() -> None:
    for expression, at in CASES:
        report = derivative_graphs(expression, at, order=6)
        print(f"{expression}:")
        for s in report.steps:
            print(
                f"  order {s.order}: {s.nodes:5d} nodes, {s.saved_tensors:4d} saved tensors "
                f"({s.saved_bytes:,} B), {s.seconds * 1e3:7.2f} ms"
            )
        if report.stopped:
            print(f"  {report.stopped}")
    big = ",".join(["0.5"] * 100_000)
    report = derivative_graphs("tanh(x)", (f"x={big}",), order=4)
    print("tanh(x) on 10^5 elements:")
    for s in report.steps:
        print(
            f"  order {s.order}: {s.nodes:5d} nodes, {s.saved_tensors:4d} saved tensors "
            f"({s.saved_bytes / 2**20:.1f} MiB), {s.seconds * 1e3:7.2f} ms"
        )


if __name__ == "__main__":
    main()
