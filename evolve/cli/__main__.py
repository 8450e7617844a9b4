"""`python -m evolve.cli ...`: the console script without its launcher (which a moved
virtualenv can break)."""

from evolve.cli import main

main(prog_name="evolve")
