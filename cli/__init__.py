"""The ``minicluster`` command line (typer); see ``minicluster --help``."""
