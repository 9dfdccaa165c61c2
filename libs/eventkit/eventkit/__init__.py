"""eventkit: Anju's kernel — event store, relay, consumers, projections, scheduler and edge.

Services build on it and never re-implement any of it. The guarantees it keeps are listed in
DESIGN.md and proven by the tests under ``libs/eventkit/tests``.
"""
