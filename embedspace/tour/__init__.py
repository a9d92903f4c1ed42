"""The tour: the classic demonstrations on the shipped spaces, as one report."""
