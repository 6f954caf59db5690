"""Read models of the people app (written only by its projector)."""
