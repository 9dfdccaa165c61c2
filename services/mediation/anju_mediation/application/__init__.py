"""Command models and handlers: load → decide → append; the policy on registry events."""
