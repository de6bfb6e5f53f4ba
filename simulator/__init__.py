"""A synthetic sales org with known ground truth: the demo's data, the tests' scenarios and
the alerts' yardstick. `python -m simulator --help` lists what it can do."""
