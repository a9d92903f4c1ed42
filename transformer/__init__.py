"""A small transformer in numpy (CuPy on a GPU): forward, hand-written backward, training, MiniLM."""
