"""Demo data for a fresh install (`python manage.py demo`) and the local curator login."""
