"""Read models of the meetings app (written only by its projector)."""
