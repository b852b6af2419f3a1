"""The rule catalogue: one module per rule family, each declaring its rules and detectors.

Modules register themselves on import; ``harness.rulebook.load_all()`` imports them all.
"""
