"""(planned: see DESIGN.md)."""
