"""Pictures of spaces: projections (scikit-learn style), plots (images) and label placement."""
