"""``python -m cli`` runs the same command line as ``embedspace``."""
from cli.main import cli

cli(prog_name="embedspace")
