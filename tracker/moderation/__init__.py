"""Moderation: one review queue of proposals from people and robots, roles and locks."""
