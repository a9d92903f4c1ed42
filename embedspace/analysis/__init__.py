"""Questions asked of a space: arithmetic, analogies (one and batched), direction probes, WEAT, benchmark evaluation."""
