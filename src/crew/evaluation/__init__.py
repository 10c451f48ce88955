"""Measure answers on labelled questions: read a question file, run it through a Crew, score it.

`questions` reads and checks a question file, `metrics` scores results (pure functions),
`runner` runs the questions through a Crew's search and turns. The CLI (`crew eval`), the
Evaluate page and bench/quality.py all go through these three.
"""
