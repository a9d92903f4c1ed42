"""Contextual vectors: encoders (MiniLM, mini), static vs contextual comparison, generation."""
