"""`evolve report`: one self-contained offline HTML file about a run, read from its database
read-only.  Layout: `source` opens the database, `data` / `mutator_data` query and aggregate into
`models`, `svg` draws, `sections` / `html` assemble, `build` ties them together (the command is
evolve/cli/report.py).  `browser` drives headless Chromium for the tests and the screenshot script."""
