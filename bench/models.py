"""The API baseline's table: a plain 6-column model, served by a minimal DRF list endpoint."""
from django.db import models


class BaselineRow(models.Model):
    """One row of the plain table the API benchmark compares the tracker's endpoints with."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=200, help_text="A name.")
    country = models.CharField(max_length=2, help_text="A country code.")
    date = models.DateField(help_text="A date.")
    amount = models.IntegerField(help_text="A number.")
    created_at = models.DateTimeField(help_text="A timestamp.")

    class Meta:
        app_label = "bench"

    def __str__(self) -> str:
        return self.name
