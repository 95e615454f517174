"""``gradx graph``: the autograd graph of an expression or a script function, as plain data.

``sources`` runs the computation, ``build`` walks its ``grad_fn`` graph and runs backward,
``view`` folds it into a readable tree; ``gradx.render.graph_*`` draws the results.
"""
