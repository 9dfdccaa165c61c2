"""Pure deciders: state, evolve(state, event), decide(state, command) -> events."""
