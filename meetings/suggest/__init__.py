"""News suggestions: article text in, officials and meetings out (pure Python, no ORM).

Entry point: `meetings.suggest.pipeline.extract`; scoring: `meetings.suggest.scoring`.
See README.md for the stack choice and the measured figures.
"""
