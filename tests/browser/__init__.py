"""Tests that open the interactive pages in headless Chromium."""
